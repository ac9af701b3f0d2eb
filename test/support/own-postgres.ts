// Test support (not product): a Postgres server of the test's own — initdb into a
// temp folder, pg_ctl on a free port — for tests that restart, crash or stop the
// database, which must never happen to the machine's shared server.
//
// Works as root (CI and the dev machines run as root, and initdb refuses root):
// the server then runs as the `postgres` OS user through `runuser`, in a temp
// folder that user owns.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../service/test/support/network';

export type ShutdownMode = 'smart' | 'fast' | 'immediate';

export interface OwnPostgres {
  /** Connection string of the `postgres` database as the `postgres` superuser (trust auth). */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server (`pg_ctl stop -m mode`); `immediate` is a crash: recovery replays the WAL on start. */
  stop(mode?: ShutdownMode): Promise<void>;
  /** Starts the server again on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** `stop(mode)` then `start()`; resolves with how long the server was down, in ms. */
  restart(mode: ShutdownMode): Promise<number>;
  running(): boolean;
  /** The server's log so far (for a failing test's message). */
  log(): string;
  /** Stops the server (immediately) if it runs and deletes its folder. */
  cleanup(): Promise<void>;
}

export interface OwnPostgresOptions {
  /** postgresql.conf settings, e.g. `{ max_connections: '200' }`. */
  settings?: Record<string, string>;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The folder of initdb/pg_ctl: `pg_config --bindir`, else the newest /usr/lib/postgresql/<v>/bin, else PATH. */
export function postgresBinDir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dir && fs.existsSync(path.join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config: try the Debian layout, then PATH
  }
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs
      .readdirSync(root)
      .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], 'bin');
  }
  return undefined;
}

function tool(name: string): string {
  const dir = postgresBinDir();
  return dir ? path.join(dir, name) : name;
}

/** Runs a Postgres tool as the user that may own a cluster (never root). */
function runPg(name: string, args: string[], timeoutMs = 120_000): { status: number | null; output: string } {
  const [cmd, cmdArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', tool(name), ...args]] : [tool(name), args];
  const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new Error(`${name} could not run: ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('own-postgres runs as root and needs the `postgres` OS user (installed with the postgresql package)');
  }
}

export async function startOwnPostgres(options: OwnPostgresOptions = {}): Promise<OwnPostgres> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-pg-'));
  const dataDir = path.join(base, 'data');
  const logFile = path.join(base, 'server.log');
  if (asRoot) {
    const { uid, gid } = postgresUser();
    fs.chownSync(base, uid, gid);
  }
  const init = runPg('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync']);
  if (init.status !== 0) {
    fs.rmSync(base, { recursive: true, force: true });
    throw new Error(`initdb failed:\n${init.output}`);
  }

  let port = 0;
  let isRunning = false;
  const writeConf = () => {
    const settings: Record<string, string> = {
      listen_addresses: "'127.0.0.1'",
      port: String(port),
      // the socket in our own folder: /var/run/postgresql may be missing or not ours
      unix_socket_directories: `'${base}'`,
      ...options.settings,
    };
    const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
    fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n# own-postgres\n${lines.join('\n')}\n`);
  };

  const start = async () => {
    const r = runPg('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '120']);
    if (r.status !== 0) throw new Error(`pg_ctl start failed:\n${r.output}\n${readLog()}`);
    isRunning = true;
  };
  const stop = async (mode: ShutdownMode = 'fast') => {
    const r = runPg('pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '120']);
    if (r.status !== 0) throw new Error(`pg_ctl stop -m ${mode} failed:\n${r.output}`);
    isRunning = false;
  };
  const readLog = () => {
    try {
      return fs.readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  // Another process may take the free port between our probe and the server's
  // bind: try a few ports before giving up.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    writeConf();
    try {
      await start();
      break;
    } catch (err) {
      if (attempt >= 3) {
        fs.rmSync(base, { recursive: true, force: true });
        throw err;
      }
    }
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop,
    start,
    restart: async (mode) => {
      const down = Date.now();
      await stop(mode);
      await start();
      return Date.now() - down;
    },
    running: () => isRunning,
    log: readLog,
    cleanup: async () => {
      if (isRunning) {
        try {
          await stop('immediate');
        } catch {
          // already gone: nothing to stop
        }
      }
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
