/** What producers and consumers of one client share: options, the HTTP pools, the manager and the metadata. */
import type { HttpTransport } from './http-transport.js';
import type { ManagerClient } from './manager-client.js';
import type { MetadataCache } from './metadata-cache.js';
import type { ResolvedClientOptions } from './options.js';
import type { PartitionRouter } from './partition-router.js';

export interface ClientContext {
  readonly options: ResolvedClientOptions;
  readonly http: HttpTransport;
  readonly manager: ManagerClient;
  readonly cache: MetadataCache;
  readonly router: PartitionRouter;
}

/** Extra time an HTTP request gets over the time the server was asked to take, for the answer to arrive. */
export const NETWORK_MARGIN_MS = 2000;
