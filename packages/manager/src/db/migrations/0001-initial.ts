import { sql, type Kysely } from 'kysely';

/** The first schema: managers and the primary lease, brokers, topics and partitions, clients and registrations. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('managers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('last_seen_ms', 'bigint', (c) => c.notNull())
    .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('primary_lease')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('epoch', 'bigint', (c) => c.notNull())
    .addColumn('lease_expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('brokers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('peer', 'text', (c) => c.notNull())
    .addColumn('registered_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('topics')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('replication_factor', 'integer', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('partitions')
    .addColumn('topic', 'text', (c) => c.notNull().references('topics.name').onDelete('cascade'))
    .addColumn('partition', 'integer', (c) => c.notNull())
    .addColumn('replicas', sql`text[]`, (c) => c.notNull())
    .addColumn('learners', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('leader', 'text')
    .addColumn('leader_term', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('high_watermark', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('partitions_pk', ['topic', 'partition'])
    .execute();
  for (const kind of ['producer', 'consumer'] as const) {
    await db.schema
      .createTable(`${kind}s`)
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable(`${kind}_topics`)
      .addColumn('client_id', 'bigint', (c) => c.notNull().references(`${kind}s.id`).onDelete('cascade'))
      .addColumn('topic', 'text', (c) => c.notNull().references('topics.name').onDelete('cascade'))
      .addColumn('partition', 'integer')
      .addPrimaryKeyConstraint(`${kind}_topics_pk`, ['client_id', 'topic'])
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['consumer_topics', 'producer_topics', 'consumers', 'producers', 'partitions', 'topics', 'brokers', 'primary_lease', 'managers']) {
    await db.schema.dropTable(t).execute();
  }
}
