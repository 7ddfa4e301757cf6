import { decodeMessage, encodeMessage } from '@myqueue/raft';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ResolvedBrokerOptions } from './config/options.js';
import { openDatabase } from './db/database.js';
import { buildHttpApp, type BrokerApp } from './http/app.js';
import { ManagerClient } from './manager-client.js';
import { BrokerMetrics } from './metrics.js';
import { RaftHost } from './raft-host/raft-host.js';
import { PeerTransport } from './transport/peer-transport.js';

export interface RunningBroker {
  readonly id: string;
  /** The HTTP API base url, e.g. http://127.0.0.1:7001 */
  readonly url: string;
  /** The Raft peer address, host:port */
  readonly peer: string;
  readonly host: RaftHost;
  readonly app: BrokerApp;
  close(): Promise<void>;
}

/**
 * Starts a broker: opens its database, listens for peers and HTTP, reopens the replicas found on disk
 * and, with a manager url, registers and heartbeats. `onFatal` is called if storage fails (the caller
 * should exit: memory and disk may disagree).
 */
export async function startBroker(
  o: ResolvedBrokerOptions,
  logger: Logger,
  onFatal: (err: unknown) => void,
): Promise<RunningBroker> {
  const log = logger.child({ component: 'broker', node: o.id });
  const db = openDatabase(join(o.dataDir, 'broker.db'));
  const transport = new PeerTransport({
    id: o.id,
    host: o.peerHost,
    port: o.peerPort,
    advertise: o.advertisedPeer,
    token: o.clusterToken,
    codec: { encode: encodeMessage, decode: decodeMessage },
    logger: logger.child({ component: 'transport', node: o.id }),
  });
  const peerPort = await transport.start();
  const host: RaftHost = new RaftHost({
    brokerId: o.id,
    db,
    transport,
    logger: logger.child({ component: 'raft', node: o.id }),
    tickMs: o.tickMs,
    electionTicks: o.electionTicks,
    heartbeatTicks: o.heartbeatTicks,
    compactEntries: o.compactEntries,
    compactRetain: o.compactRetain,
    onCommit: (seconds) => metrics.commitLatency.observe(seconds),
    onFatal,
  });
  const metrics = new BrokerMetrics(() => host);
  const app = await buildHttpApp({
    host,
    metrics,
    logger: logger.child({ component: 'http', node: o.id }),
    clusterToken: o.clusterToken,
    bodyLimit: o.bodyLimit,
    produceTimeoutMs: o.produceTimeoutMs,
    sequenceGateMs: o.sequenceGateMs,
  });
  await app.listen({ host: o.httpHost, port: o.httpPort });
  const address = app.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : o.httpPort;
  const url = o.advertisedUrl ?? `http://${o.httpHost}:${httpPort}`;
  const peer = o.advertisedPeer ?? `${o.peerHost}:${peerPort}`;
  host.learnAddresses([{ id: o.id, url, peer }]);
  host.start();
  const manager = o.managerUrl
    ? new ManagerClient({
        managerUrl: o.managerUrl,
        clusterToken: o.clusterToken,
        broker: { id: o.id, url, peer },
        intervalMs: o.managerHeartbeatMs,
        partitions: () => host.replicas().map((r) => r.health()),
        logger: logger.child({ component: 'manager-client', node: o.id }),
      })
    : undefined;
  manager?.start();
  log.info({ url, peer, dataDir: o.dataDir }, 'broker started');

  let closing: Promise<void> | undefined;
  return {
    id: o.id,
    url,
    peer,
    host: host,
    app,
    close: () =>
      (closing ??= (async () => {
        await manager?.stop();
        await app.close();
        await host.close();
        await transport.close();
        db.close();
        log.info('broker stopped');
      })()),
  };
}
