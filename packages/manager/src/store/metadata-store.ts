import type { Kysely, Selectable, Transaction } from 'kysely';
import { MyQueueError, type ClientKind } from '@myqueue/protocol';
import type { Election } from '../election.js';
import type { BrokersTable, Database, PartitionsTable, TopicsTable } from '../db/schema.js';

export type BrokerRow = Selectable<BrokersTable>;
export type PartitionRow = Selectable<PartitionsTable>;
export interface TopicRow extends Selectable<TopicsTable> {
  partitions: PartitionRow[];
}
export interface Registration {
  topic: string;
  partition: number | null;
}
export interface ClientRow {
  id: number;
  last_seen_ms: number;
  topics: Registration[];
}
export interface LeaderChange {
  topic: string;
  partition: number;
  leader: string | null;
  term: number;
  highWatermark: number;
}

const clientTable = (kind: ClientKind) => (kind === 'producer' ? 'producers' : 'consumers');
const registrationTable = (kind: ClientKind) => (kind === 'producer' ? 'producer_topics' : 'consumer_topics');

/**
 * Every query on the metadata. Reads run anywhere; writes run in a transaction that first checks this node
 * is still the primary (Election.fence), so only the primary ever writes.
 */
export class MetadataStore {
  readonly #db: Kysely<Database>;
  readonly #election: Election;

  constructor(db: Kysely<Database>, election: Election) {
    this.#db = db;
    this.#election = election;
  }

  write<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute(async (trx) => {
      await this.#election.fence(trx);
      return fn(trx);
    });
  }

  // ---- managers (each node writes its own liveness row; the one write a replica makes, see docs/manager.md)

  async touchManager(id: string, url: string, role: string, now: number): Promise<void> {
    await this.#db
      .insertInto('managers')
      .values({ id, url, role, last_seen_ms: now, started_at_ms: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ url, role, last_seen_ms: now }))
      .execute();
  }

  listManagers() {
    return this.#db.selectFrom('managers').selectAll().orderBy('id').execute();
  }

  // ---- brokers

  listBrokers(): Promise<BrokerRow[]> {
    return this.#db.selectFrom('brokers').selectAll().orderBy('id').execute();
  }

  async registerBroker(b: { id: string; url: string; peer: string }, now: number): Promise<BrokerRow> {
    return this.write((trx) =>
      trx
        .insertInto('brokers')
        .values({ ...b, registered_at_ms: now, last_seen_ms: now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ url: b.url, peer: b.peer, last_seen_ms: now }))
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
  }

  /** Records a heartbeat; false when the broker is unknown. */
  async touchBroker(id: string, now: number): Promise<boolean> {
    const r = await this.write((trx) => trx.updateTable('brokers').set({ last_seen_ms: now }).where('id', '=', id).executeTakeFirst());
    return r.numUpdatedRows === 1n;
  }

  // ---- topics and partitions

  async listTopicNames(): Promise<string[]> {
    return (await this.#db.selectFrom('topics').select('name').orderBy('name').execute()).map((r) => r.name);
  }

  /** Topics with their partitions; all of them, or those named (unknown names are left out). */
  async listTopics(names?: readonly string[]): Promise<TopicRow[]> {
    if (names && names.length === 0) return [];
    let q = this.#db.selectFrom('topics').selectAll().orderBy('name');
    if (names) q = q.where('name', 'in', names);
    const topics = await q.execute();
    if (topics.length === 0) return [];
    const parts = await this.#db
      .selectFrom('partitions')
      .selectAll()
      .where(
        'topic',
        'in',
        topics.map((t) => t.name),
      )
      .orderBy('topic')
      .orderBy('partition')
      .execute();
    const byTopic = new Map<string, PartitionRow[]>(topics.map((t) => [t.name, []]));
    for (const p of parts) byTopic.get(p.topic)?.push(p);
    return topics.map((t) => ({ ...t, partitions: byTopic.get(t.name) ?? [] }));
  }

  async getTopic(name: string): Promise<TopicRow | undefined> {
    return (await this.listTopics([name]))[0];
  }

  async allPartitions(): Promise<PartitionRow[]> {
    return this.#db.selectFrom('partitions').selectAll().orderBy('topic').orderBy('partition').execute();
  }

  /** Inserts a topic and its partitions' replica lists; MQ_ERR_TOPIC_EXISTS when the name is taken. */
  async createTopic(name: string, replicationFactor: number, replicaLists: string[][], now: number): Promise<void> {
    await this.write(async (trx) => {
      const inserted = await trx
        .insertInto('topics')
        .values({ name, replication_factor: replicationFactor, created_at_ms: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .returning('name')
        .executeTakeFirst();
      if (!inserted) throw new MyQueueError('MQ_ERR_TOPIC_EXISTS', `Topic '${name}' already exists`);
      await trx
        .insertInto('partitions')
        .values(replicaLists.map((replicas, partition) => ({ topic: name, partition, replicas, learners: [], leader: null, leader_term: 0, high_watermark: 0 })))
        .execute();
    });
  }

  async deleteTopic(name: string): Promise<boolean> {
    const r = await this.write((trx) => trx.deleteFrom('topics').where('name', '=', name).executeTakeFirst());
    return r.numDeletedRows === 1n;
  }

  /** Applies leader reports; a report only wins over a recorded leader of a lower or equal term. */
  async updateLeaders(changes: readonly LeaderChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.write(async (trx) => {
      for (const c of changes) {
        await trx
          .updateTable('partitions')
          .set({ leader: c.leader, leader_term: c.term, high_watermark: c.highWatermark })
          .where('topic', '=', c.topic)
          .where('partition', '=', c.partition)
          .where('leader_term', '<=', c.term)
          .execute();
      }
    });
  }

  async setMembers(topic: string, partition: number, replicas: string[], learners: string[]): Promise<void> {
    await this.write((trx) => trx.updateTable('partitions').set({ replicas, learners }).where('topic', '=', topic).where('partition', '=', partition).execute());
  }

  // ---- producers and consumers

  /** A new producer or consumer registered for `topic` (and `partition` if given); returns its id. */
  async createClient(kind: ClientKind, reg: Registration, now: number): Promise<number> {
    return this.write(async (trx) => {
      const { id } = await trx.insertInto(clientTable(kind)).values({ created_at_ms: now, last_seen_ms: now }).returning('id').executeTakeFirstOrThrow();
      await trx.insertInto(registrationTable(kind)).values({ client_id: id, topic: reg.topic, partition: reg.partition }).execute();
      return id;
    });
  }

  /** Registers an existing client for one more topic (or re-pins it); false when the client is unknown. */
  async addRegistration(kind: ClientKind, id: number, reg: Registration, now: number): Promise<boolean> {
    return this.write(async (trx) => {
      const r = await trx.updateTable(clientTable(kind)).set({ last_seen_ms: now }).where('id', '=', id).executeTakeFirst();
      if (r.numUpdatedRows !== 1n) return false;
      await trx
        .insertInto(registrationTable(kind))
        .values({ client_id: id, topic: reg.topic, partition: reg.partition })
        .onConflict((oc) => oc.columns(['client_id', 'topic']).doUpdateSet({ partition: reg.partition }))
        .execute();
      return true;
    });
  }

  async touchClient(kind: ClientKind, id: number, now: number): Promise<boolean> {
    const r = await this.write((trx) => trx.updateTable(clientTable(kind)).set({ last_seen_ms: now }).where('id', '=', id).executeTakeFirst());
    return r.numUpdatedRows === 1n;
  }

  /** The client's registration for `topic`: undefined when the client is unknown, null when not registered. */
  async getRegistration(kind: ClientKind, id: number, topic: string): Promise<Registration | null | undefined> {
    const row = await this.#db
      .selectFrom(`${clientTable(kind)} as c`)
      .leftJoin(`${registrationTable(kind)} as r`, (j) => j.onRef('r.client_id', '=', 'c.id').on('r.topic', '=', topic))
      .select(['c.id', 'r.topic', 'r.partition'])
      .where('c.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    return row.topic === null ? null : { topic: row.topic, partition: row.partition };
  }

  async listClients(kind: ClientKind): Promise<ClientRow[]> {
    const clients = await this.#db.selectFrom(clientTable(kind)).select(['id', 'last_seen_ms']).orderBy('id').execute();
    const regs = await this.#db.selectFrom(registrationTable(kind)).selectAll().execute();
    const byId = new Map<number, Registration[]>(clients.map((c) => [c.id, []]));
    for (const r of regs) byId.get(r.client_id)?.push({ topic: r.topic, partition: r.partition });
    return clients.map((c) => ({ ...c, topics: byId.get(c.id) ?? [] }));
  }
}
