import type { Logger } from 'pino';
import type { ClusterView } from './cluster-view.js';
import type { Controller } from './controller.js';
import type { DataPath } from './data-path.js';
import type { Election } from './election.js';
import type { HttpClient } from './http-client.js';
import type { ManagerMetrics } from './metrics.js';
import type { ResolvedManagerOptions } from './options.js';
import type { RoundRobin } from './round-robin.js';
import type { MetadataStore } from './store/metadata-store.js';

/** Everything a route handler needs, built once by startManager(). */
export interface ManagerContext {
  readonly o: ResolvedManagerOptions;
  readonly url: string;
  readonly log: Logger;
  readonly store: MetadataStore;
  readonly view: ClusterView;
  readonly controller: Controller;
  readonly data: DataPath;
  readonly election: Election;
  readonly http: HttpClient;
  readonly metrics: ManagerMetrics;
  readonly rotations: { produce: RoundRobin; consume: RoundRobin };
  readonly database: 'postgres' | 'pglite';
  readonly startedAt: number;
  /** The primary's URL as last read from the database (undefined when there is none). */
  primary(): { id: string; url: string } | null;
}
