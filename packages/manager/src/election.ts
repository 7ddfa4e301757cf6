import { sql, type Kysely, type Transaction } from 'kysely';
import type pg from 'pg';
import { MyQueueError } from '@myqueue/protocol';
import type { MetadataDb } from './db/database.js';
import type { Database } from './db/schema.js';

/** The advisory lock key (two int4s: 'mq' and 1) the primary holds on its dedicated connection. */
const LOCK_CLASS = 0x6d71;
const LOCK_OBJ = 1;

export interface PrimaryRecord {
  holder: string;
  url: string;
  epoch: number;
}

/**
 * Primary election over the shared metadata database. Exactly one manager is primary; only it writes.
 * Every write transaction calls fence() first, so a primary that lost its primaryship without noticing yet
 * (a paused process, a cut connection) cannot write behind its successor's back.
 */
export interface Election {
  readonly mode: 'advisory-lock' | 'lease';
  /** Try to become primary, or confirm this node still is. Returns whether it is primary now. */
  tick(): Promise<boolean>;
  readonly isPrimary: boolean;
  /** The epoch this node took over in (grows at every takeover); 0 when not primary. */
  readonly epoch: number;
  fence(trx: Transaction<Database>): Promise<void>;
  /** Give up primaryship at once (graceful shutdown) so a replica takes over without waiting. */
  release(): Promise<void>;
}

export interface ElectionOptions {
  readonly nodeId: string;
  readonly url: string;
  /** Lease mode only. */
  readonly leaseTtlMs: number;
  /** How often tick() runs: a lease holder stops trusting its lease one interval before it expires. */
  readonly intervalMs: number;
}

function notPrimary(): MyQueueError {
  return new MyQueueError('MQ_ERR_NOT_PRIMARY', 'this manager is no longer the primary');
}

function leaseUntil(o: ElectionOptions) {
  return sql<Date>`now() + make_interval(secs => ${o.leaseTtlMs / 1000})`;
}

/**
 * Takes the primary row: unconditionally (advisory lock held), or only if the lease expired or is already
 * this node's (`onlyIfExpired`).
 * Returns the new epoch, or 0 when the lease is still someone else's.
 */
async function takeOver(db: Kysely<Database>, o: ElectionOptions, onlyIfExpired: boolean): Promise<number> {
  const until = leaseUntil(o);
  // A holder whose own trust ran out (a slow pass) may take its unexpired lease back: nobody else took it.
  const condition = onlyIfExpired ? sql`where primary_lease.lease_expires_at < now() or primary_lease.holder = ${o.nodeId}` : sql``;
  const r = await sql<{ epoch: number }>`
    insert into primary_lease (id, holder, url, epoch, lease_expires_at)
    values (1, ${o.nodeId}, ${o.url}, 1, ${until})
    on conflict (id) do update set holder = excluded.holder, url = excluded.url,
      epoch = primary_lease.epoch + 1, lease_expires_at = excluded.lease_expires_at
    ${condition}
    returning epoch`.execute(db);
  return r.rows[0]?.epoch ?? 0;
}

async function renewLease(db: Kysely<Database>, o: ElectionOptions, epoch: number): Promise<boolean> {
  const r = await db
    .updateTable('primary_lease')
    .set({ lease_expires_at: leaseUntil(o) as unknown as Date })
    .where('id', '=', 1)
    .where('holder', '=', o.nodeId)
    .where('epoch', '=', epoch)
    .executeTakeFirst();
  return r.numUpdatedRows === 1n;
}

/**
 * Real Postgres: the primary holds a session-level advisory lock on a dedicated connection. When the
 * primary dies its connection closes and Postgres releases the lock at once; the next replica to ask gets it.
 */
export class AdvisoryLockElection implements Election {
  readonly mode = 'advisory-lock' as const;
  #client: pg.Client | undefined;
  #pid = 0;
  #epoch = 0;
  readonly #mdb: MetadataDb;
  readonly #o: ElectionOptions;

  constructor(mdb: MetadataDb, options: ElectionOptions) {
    this.#mdb = mdb;
    this.#o = options;
  }

  get isPrimary(): boolean {
    return this.#epoch > 0;
  }
  get epoch(): number {
    return this.#epoch;
  }

  async tick(): Promise<boolean> {
    try {
      if (this.isPrimary) {
        await this.#client!.query('select 1');
        // The lease column is informational here (safety comes from the lock): it tells replicas the primary lives.
        if (!(await renewLease(this.#mdb.db, this.#o, this.#epoch))) this.#drop();
        return this.isPrimary;
      }
      this.#client ??= await this.#connect();
      const r = await this.#client.query<{ locked: boolean; pid: number }>('select pg_try_advisory_lock($1, $2) as locked, pg_backend_pid() as pid', [LOCK_CLASS, LOCK_OBJ]);
      if (!r.rows[0]?.locked) return false;
      this.#pid = r.rows[0].pid;
      this.#epoch = await takeOver(this.#mdb.db, this.#o, false);
      return true;
    } catch {
      this.#drop();
      return false;
    }
  }

  async fence(trx: Transaction<Database>): Promise<void> {
    if (!this.isPrimary) throw notPrimary();
    const r = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = ${LOCK_CLASS} and objid = ${LOCK_OBJ} and objsubid = 2 and pid = ${this.#pid} and granted`.execute(trx);
    if (r.rows[0]?.n !== 1) {
      this.#drop();
      throw notPrimary();
    }
  }

  async release(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#epoch = 0;
    if (client) await client.end().catch(() => undefined);
  }

  async #connect(): Promise<pg.Client> {
    const client = await this.#mdb.connect();
    client.on('error', () => this.#drop());
    return client;
  }

  #drop(): void {
    this.#epoch = 0;
    const client = this.#client;
    this.#client = undefined;
    client?.end().catch(() => undefined);
  }
}

/**
 * PGlite: its socket multiplexes every connection onto one Postgres session, so an advisory lock cannot tell
 * managers apart. The primary instead holds a lease row renewed every interval (database clock); a replica
 * takes over once the lease has expired. The holder stops acting as primary one interval before its lease
 * can expire by its own clock, so two primaries never overlap while clocks run at similar rates.
 */
export class LeaseElection implements Election {
  readonly mode = 'lease' as const;
  #epoch = 0;
  #trustUntil = 0;
  readonly #db: Kysely<Database>;
  readonly #o: ElectionOptions;

  constructor(mdb: MetadataDb, options: ElectionOptions) {
    this.#db = mdb.db;
    this.#o = options;
  }

  get isPrimary(): boolean {
    if (this.#epoch > 0 && Date.now() >= this.#trustUntil) this.#epoch = 0;
    return this.#epoch > 0;
  }
  get epoch(): number {
    return this.isPrimary ? this.#epoch : 0;
  }

  async tick(): Promise<boolean> {
    const started = Date.now();
    try {
      if (this.isPrimary) {
        if (!(await renewLease(this.#db, this.#o, this.#epoch))) this.#epoch = 0;
      } else {
        this.#epoch = await takeOver(this.#db, this.#o, true);
      }
      if (this.#epoch > 0) this.#trustUntil = started + this.#o.leaseTtlMs - this.#o.intervalMs;
    } catch {
      // The database is unreachable: keep trusting the lease only until #trustUntil.
    }
    return this.isPrimary;
  }

  async fence(trx: Transaction<Database>): Promise<void> {
    if (!this.isPrimary) throw notPrimary();
    const row = await trx
      .selectFrom('primary_lease')
      .select('epoch')
      .where('id', '=', 1)
      .where('holder', '=', this.#o.nodeId)
      .where('epoch', '=', this.#epoch)
      .where(sql<boolean>`lease_expires_at > now()`)
      .executeTakeFirst();
    if (!row) {
      this.#epoch = 0;
      throw notPrimary();
    }
  }

  async release(): Promise<void> {
    if (this.#epoch === 0) return;
    const epoch = this.#epoch;
    this.#epoch = 0;
    await this.#db
      .updateTable('primary_lease')
      .set({ lease_expires_at: sql<Date>`now() - interval '1 second'` as unknown as Date })
      .where('holder', '=', this.#o.nodeId)
      .where('epoch', '=', epoch)
      .execute()
      .catch(() => undefined);
  }
}

/**
 * True when two connections share one session (PGlite's socket): a session advisory lock taken on one
 * connection is then granted to the other too. Real Postgres answers false.
 */
export async function connectionsShareSession(mdb: MetadataDb): Promise<boolean> {
  const key = Math.floor(Math.random() * 2 ** 31);
  const a = await mdb.connect();
  const b = await mdb.connect();
  try {
    await a.query('select pg_advisory_lock($1, $2)', [LOCK_CLASS, key]);
    const r = await b.query<{ locked: boolean }>('select pg_try_advisory_lock($1, $2) as locked', [LOCK_CLASS, key]);
    return r.rows[0]?.locked === true;
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
}

/** The primary as recorded in the database; null when its lease ran out (it stopped renewing: dead or gone). */
export async function readPrimary(db: Kysely<Database>): Promise<PrimaryRecord | null> {
  const row = await db
    .selectFrom('primary_lease')
    .select(['holder', 'url', 'epoch'])
    .where('id', '=', 1)
    .where(sql<boolean>`lease_expires_at > now()`)
    .executeTakeFirst();
  return row ?? null;
}
