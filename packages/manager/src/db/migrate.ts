import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as m0001 from './migrations/0001-initial.js';

/** Every migration, in order. A new one is a new module in migrations/ added here; applied ones never change. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': m0001,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

/**
 * Brings the schema up to date. Safe to run from several managers at once: Kysely takes a lock for the run,
 * and a manager that finds everything applied does nothing.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was, not as it is
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider, migrationTableName: 'mq_migrations', migrationLockTableName: 'mq_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
