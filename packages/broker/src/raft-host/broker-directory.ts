import type { ReplicaAddress } from '@myqueue/protocol';
import type { Db } from '../db/database.js';

/** Addresses of the brokers this one has heard of (from admin calls), kept in `mq_brokers`. */
export class BrokerDirectory {
  readonly #upsert;
  readonly #byId = new Map<string, ReplicaAddress>();

  constructor(db: Db) {
    this.#upsert = db.prepare<[string, string, string]>(
      'INSERT INTO mq_brokers (id, url, peer) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET url = excluded.url, peer = excluded.peer',
    );
    for (const r of db.prepare<[], ReplicaAddress>('SELECT id, url, peer FROM mq_brokers').all()) this.#byId.set(r.id, r);
  }

  save(addresses: readonly ReplicaAddress[]): void {
    for (const a of addresses) {
      const known = this.#byId.get(a.id);
      if (known && known.url === a.url && known.peer === a.peer) continue;
      this.#upsert.run(a.id, a.url, a.peer);
      this.#byId.set(a.id, { id: a.id, url: a.url, peer: a.peer });
    }
  }

  urlOf(id: string): string | null {
    return this.#byId.get(id)?.url ?? null;
  }

  all(): ReplicaAddress[] {
    return [...this.#byId.values()];
  }
}
