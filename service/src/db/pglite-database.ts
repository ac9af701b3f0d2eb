import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { functionCallSql, toDatabaseError, type MigratableDatabase, type SqlArgs } from './database';
import { MIGRATION_LOCK_ID } from './migrations';

/**
 * The embedded default: PGlite (Postgres in WASM) with its data in a local folder.
 * PGlite is single-process: a lock file keeps a second live process out, since two
 * writers on one data dir corrupt it.
 */
export class PgliteDatabase implements MigratableDatabase {
  readonly kind = 'pglite' as const;
  private closed = false;

  private constructor(
    private readonly pg: PGlite,
    private readonly lockFile: string | undefined,
  ) {}

  /** Opens (creating if needed) the data dir; `undefined` keeps everything in memory. */
  static async open(dataDir: string | undefined): Promise<PgliteDatabase> {
    let lockFile: string | undefined;
    if (dataDir !== undefined) {
      fs.mkdirSync(dataDir, { recursive: true });
      lockFile = path.join(dataDir, 'corofy.lock');
      takeDataDirLock(lockFile, dataDir);
    }
    try {
      const pg = await PGlite.create(dataDir === undefined ? undefined : path.join(dataDir, 'pglite'));
      return new PgliteDatabase(pg, lockFile);
    } catch (err) {
      if (lockFile) fs.rmSync(lockFile, { force: true });
      throw err;
    }
  }

  async call<T>(fn: string, args: SqlArgs = {}): Promise<T> {
    return (await this.rows<T>(functionCallSql(fn, args)))[0]!;
  }

  callEachAsJsonText(fn: string, args: SqlArgs = {}): Promise<string[]> {
    return this.rows<string>(functionCallSql(fn, args, true));
  }

  private async rows<T>({ text, values }: { text: string; values: unknown[] }): Promise<T[]> {
    try {
      const res = await this.pg.query<{ result: T }>(text, values);
      return res.rows.map((r) => r.result);
    } catch (err) {
      throw toDatabaseError(err);
    }
  }

  async migrate(body: (exec: (sql: string, params?: unknown[]) => Promise<unknown[]>) => Promise<void>) {
    await this.pg.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
      await body(async (sql, params) => {
        if (params !== undefined) return (await tx.query(sql, params)).rows;
        await tx.exec(sql);
        return [];
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pg.close();
    if (this.lockFile) fs.rmSync(this.lockFile, { force: true });
  }
}

function takeDataDirLock(lockFile: string, dataDir: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `The data dir ${dataDir} is in use by another Corofy process (pid ${holder}). ` +
            'Stop it first, or set COROFY_DATA_DIR to another folder.',
        );
      }
      // The holder is gone (killed without cleaning up): the lock is stale.
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not lock the data dir ${dataDir}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
