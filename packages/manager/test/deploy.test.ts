/**
 * deploy/ stays in step with the services: every environment variable the compose file and the Kubernetes
 * manifests set is one the service's env parser reads (or a helper used through $(NAME) expansion), and
 * each service's environment passes its parser. No Docker engine here, so nothing is run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { optionsFromEnv as brokerOptionsFromEnv } from '@myqueue/broker';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ENV_VARS, optionsFromEnv as managerOptionsFromEnv, withDefaults } from '../src/index.js';

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), '../../../deploy');

type Service = 'manager' | 'broker';
type Env = Record<string, string>;

/** The names the broker's env parser reads, found by watching it read an empty environment. */
function brokerVars(): Set<string> {
  const seen = new Set<string>();
  const empty: NodeJS.ProcessEnv = {};
  const spy = new Proxy(empty, { get: (_t, k) => (typeof k === 'string' && seen.add(k), undefined) });
  expect(() => brokerOptionsFromEnv(spy)).toThrow(); // required ones are missing: it still read them all first
  return seen;
}

const known: Record<Service, Set<string>> = { manager: new Set(Object.keys(ENV_VARS)), broker: brokerVars() };

function serviceOf(command: unknown): Service {
  const text = JSON.stringify(command);
  if (text.includes('packages/manager/dist/main.js')) return 'manager';
  if (text.includes('packages/broker/dist/main.js')) return 'broker';
  throw new Error(`unknown service command ${text}`);
}

/** Stand-ins for values only known at deploy time: ${VAR:?...} (compose), $(VAR) (Kubernetes), secrets. */
function concrete(env: Env): Env {
  const out: Env = {};
  for (const [k, v] of Object.entries(env)) {
    out[k] = v
      .replace(/\$\{[^}]+\}/g, 'deploy-time-secret')
      .replace(/\$\(([A-Z_]+)\)/g, (_m, name: string) => (name.endsWith('IP') ? '10.0.0.1' : 'pod-0'));
  }
  return out;
}

function check(service: Service, where: string, env: Env, helpers: Set<string>): void {
  for (const name of Object.keys(env)) {
    const used =
      known[service].has(name) || (helpers.has(name) && Object.values(env).some((v) => v.includes(`$(${name})`)));
    expect(used, `${where}: ${name} is not read by the ${service}`).toBe(true);
  }
  const values = concrete(env);
  if (service === 'manager') {
    const o = withDefaults(managerOptionsFromEnv(values));
    expect(o.databaseUrl, `${where}: deployments use Postgres, not the embedded PGlite`).toBeTruthy();
    expect(o.clusterToken, `${where}: cluster token`).toBeTruthy();
    expect(o.host).toBe('0.0.0.0');
    expect(o.advertisedUrl, `${where}: replicas forward to this URL`).toMatch(/^http:\/\//);
  } else {
    const o = brokerOptionsFromEnv(values);
    expect(o.clusterToken).toBeTruthy();
    expect(o.managerUrl).toMatch(/^http:\/\//);
    expect(o.advertisedUrl).toMatch(/^http:\/\//);
    expect(o.dataDir).toBe('/data');
  }
}

describe('deploy/docker-compose.yml', () => {
  const compose = parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: unknown; environment?: Env; image?: string }>;
  };

  it('runs Postgres, a manager primary and replica, and three brokers', () => {
    const services = Object.entries(compose.services).filter(([, s]) => s.command !== undefined);
    const count = (kind: Service) => services.filter(([, s]) => serviceOf(s.command) === kind).length;
    expect(count('manager')).toBe(2);
    expect(count('broker')).toBe(3);
    expect(compose.services.postgres.image).toMatch(/^postgres:/);
  });

  it('sets only environment variables the services read, and enough to start them', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.command === undefined) continue;
      check(serviceOf(s.command), `compose ${name}`, s.environment ?? {}, new Set());
    }
  });
});

describe('deploy/kubernetes', () => {
  interface Container {
    command: string[];
    env: { name: string; value?: string; valueFrom?: unknown }[];
  }
  interface Manifest {
    kind: string;
    metadata: { name: string };
    spec: {
      replicas?: number;
      volumeClaimTemplates?: { spec: { resources: { requests: { storage: string } } } }[];
      template: { spec: { containers: Container[] } };
    };
  }
  const docs = readdirSync(join(DEPLOY, 'kubernetes'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes', f), 'utf8')).map((d) => d.toJS() as Manifest),
    );

  it('runs brokers as a StatefulSet with persistent volumes and managers as a Deployment behind a Service', () => {
    const broker = docs.find((d) => d.kind === 'StatefulSet');
    expect(broker?.spec.replicas).toBe(3);
    expect(broker?.spec.volumeClaimTemplates?.[0].spec.resources.requests.storage).toBeTruthy();
    const manager = docs.find((d) => d.kind === 'Deployment');
    expect(manager?.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(docs.filter((d) => d.kind === 'Service').map((d) => d.metadata.name)).toEqual(
      expect.arrayContaining(['myqueue-manager', 'myqueue-broker']),
    );
  });

  it('sets only environment variables the services read, and enough to start them', () => {
    let checked = 0;
    for (const d of docs.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
      for (const c of d.spec.template.spec.containers as {
        command: string[];
        env: { name: string; value?: string; valueFrom?: unknown }[];
      }[]) {
        const env: Env = {};
        const helpers = new Set<string>();
        for (const e of c.env) {
          env[e.name] = e.value ?? '${from-a-secret-or-field}';
          if (e.valueFrom !== undefined) helpers.add(e.name);
        }
        check(serviceOf(c.command), `kubernetes ${d.metadata.name}`, env, helpers);
        checked++;
      }
    }
    expect(checked).toBe(2);
  });
});
