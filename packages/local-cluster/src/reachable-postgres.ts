/**
 * Finds the Postgres server tests and scenarios should use, so they run on a machine with only Node:
 * the server when it answers, otherwise undefined (the cluster then uses the manager's embedded PGlite).
 */
import pg from 'pg';

export const DEFAULT_TEST_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * `url` (default MYQUEUE_TEST_POSTGRES, then 127.0.0.1:5432) when a connection and `select 1` succeed
 * within `timeoutMs`, else undefined. Logs which metadata database the caller will get.
 */
export async function reachablePostgres(
  url: string = process.env.MYQUEUE_TEST_POSTGRES ?? DEFAULT_TEST_POSTGRES,
  timeoutMs = 2000,
): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  // A refused connection also emits 'error' on some pg versions; without a listener it would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    console.log(`metadata database: Postgres at ${redact(url)}`);
    return url;
  } catch (err) {
    console.log(`metadata database: PGlite (Postgres at ${redact(url)} unreachable: ${(err as Error).message})`);
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<bad url>';
  }
}

/** startLocalCluster's options for the reachable Postgres (a fresh database on it), or {} for PGlite. */
export async function testDatabaseOptions(): Promise<{ postgresUrl?: string }> {
  const url = await reachablePostgres();
  return url ? { postgresUrl: url } : {};
}
