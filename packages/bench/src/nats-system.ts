/**
 * NATS JetStream through the `nats` npm client, used the fast way: every publish is async and the
 * workloads keep many in flight. A file-storage stream with `replicas` replicas on a three-server
 * cluster. NATS acknowledges a publish once a majority stored it, but fsyncs on a timer (2 min by default).
 */
import {
  connect,
  DeliverPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type { NatsCluster } from './nats-cluster.js';
import { fromBytes, toBytes } from './payload.js';
import { countUntil, type ConsumerHandle, type ProducerHandle, type System } from './system.js';

export const NATS_WINDOW = 4096;

export class NatsSystem implements System {
  readonly name: string;
  readonly window = NATS_WINDOW;
  readonly #cluster: NatsCluster;
  readonly #replicas: number;
  readonly #connections: NatsConnection[] = [];
  #nc!: NatsConnection;
  #jsm!: JetStreamManager;

  private constructor(cluster: NatsCluster, replicas: number) {
    this.#cluster = cluster;
    this.#replicas = replicas;
    this.name = `NATS R${replicas}`;
  }

  static async open(cluster: NatsCluster, replicas: number): Promise<NatsSystem> {
    const s = new NatsSystem(cluster, replicas);
    s.#nc = await s.#connect();
    // jetstreamManager() asks for the account info, which fails until the servers elected a meta leader.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        s.#jsm = await s.#nc.jetstreamManager();
        return s;
      } catch (e) {
        if (Date.now() > deadline) {
          await s.close();
          throw e;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  #connect(): Promise<NatsConnection> {
    return connect({
      servers: this.#cluster.servers,
      reconnectTimeWait: 100,
      maxReconnectAttempts: -1,
      pingInterval: 2000,
    }).then((nc) => {
      this.#connections.push(nc);
      return nc;
    });
  }

  async createStream(name: string): Promise<void> {
    // The JetStream meta leader may still be in election right after start: retry for a while.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await this.#jsm.streams.add({
          name,
          subjects: [`${name}.>`],
          num_replicas: this.#replicas,
          storage: StorageType.File,
        });
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async producer(stream: string): Promise<ProducerHandle> {
    // One connection per producer, as separate applications would have.
    const nc = await this.#connect();
    const js: JetStreamClient = nc.jetstream({ timeout: 10_000 });
    const subject = `${stream}.m`;
    return {
      send: async (value) => {
        await js.publish(subject, toBytes(value));
      },
      close: () => nc.drain(),
    };
  }

  async readAll(stream: string, expected: number, timeoutMs: number, onMessage: () => void): Promise<number> {
    const js = this.#nc.jetstream();
    // An ordered consumer starts at the first message by default (nats 2.29 stalls when deliver_policy 'all' is given).
    const consumer = await js.consumers.get(stream);
    const messages = await consumer.consume({ max_messages: 10_000 });
    return countUntil(messages, expected, timeoutMs, () => messages.close(), onMessage);
  }

  async tail(stream: string, onValue: (value: string) => void): Promise<ConsumerHandle> {
    const js = this.#nc.jetstream();
    const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.New });
    const messages = await consumer.consume({ max_messages: 10_000 });
    const loop = (async () => {
      for await (const m of messages) onValue(fromBytes(m.data));
    })();
    return {
      stop: async () => {
        await messages.close();
        await loop;
      },
    };
  }

  get failoverRound(): System['failoverRound'] {
    if (this.#replicas < 2) return undefined;
    return async (stream) => {
      // Probes time out after 1 s and are resent, as an application publishing during an election would.
      const js = this.#nc.jetstream({ timeout: 1000 });
      const producer: ProducerHandle = {
        send: async (value) => void (await js.publish(`${stream}.m`, toBytes(value))),
        close: () => Promise.resolve(),
      };
      await producer.send('warm-up');
      const leader = await this.#leaderOf(stream);
      const killedAt = performance.now();
      await this.#cluster.kill(leader);
      const elapsed = await untilSent(producer, killedAt);
      await this.#cluster.restart(leader);
      await this.#waitCurrent(stream);
      return elapsed;
    };
  }

  async #leaderOf(stream: string): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const info = await this.#jsm.streams.info(stream);
        if (info.cluster?.leader) return info.cluster.leader;
      } catch {
        // no leader right now
      }
      if (Date.now() > deadline) throw new Error(`stream ${stream} has no leader`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until every replica of the stream is current again. */
  async #waitCurrent(stream: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        const info = await this.#jsm.streams.info(stream);
        const replicas = info.cluster?.replicas ?? [];
        if (
          info.cluster?.leader &&
          replicas.length === this.#replicas - 1 &&
          replicas.every((r) => r.current && !r.offline)
        )
          return;
      } catch {
        // retry
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`stream ${stream} did not catch up after the failover`);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#connections.map((nc) => nc.close()));
  }
}

/** Keeps sending one message until one is acknowledged; the milliseconds since `from`. */
export async function untilSent(producer: ProducerHandle, from: number, timeoutMs = 60_000): Promise<number> {
  for (;;) {
    try {
      await producer.send('failover-probe');
      return performance.now() - from;
    } catch (e) {
      if (performance.now() - from > timeoutMs) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
