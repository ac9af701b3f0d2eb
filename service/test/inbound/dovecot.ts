// Test support: a Dovecot IMAP server of the test's own (Debian's dovecot-imapd),
// in a temporary folder on a free port, stopped by its pid. Recipe:
// ../shared/notes/mailbox-testing.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { freePort } from '../support/network';

export interface Dovecot {
  host: string;
  port: number;
  dir: string;
  /** Delivers a message into a user's folder as a mail server would (IMAP APPEND); returns its UID. */
  append(user: string, raw: string | string[], folder?: string): Promise<number>;
  /** Stops the server (SIGTERM to its master process) and waits until the port is closed. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Deletes and recreates the user's maildir: the folder's UIDVALIDITY changes. */
  resetMaildir(user: string): Promise<void>;
  cleanup(): Promise<void>;
}

async function portOpen(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Dovecot: timed out waiting for ${what}`);
}

export const PASSWORD = 'secret';

export async function startDovecot(users: string[]): Promise<Dovecot> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-dovecot-'));
  const port = await freePort();
  fs.chmodSync(dir, 0o755); // the auth process (user dovecot) reads the users file
  for (const d of ['run', 'state', 'mail']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.chmodSync(path.join(dir, 'mail'), 0o777);
  fs.writeFileSync(path.join(dir, 'users'), users.map((u) => `${u}:{PLAIN}${PASSWORD}`).join('\n') + '\n');
  fs.writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
service imap-login {
  inet_listener imap {
    port = ${port}
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/mail/%u
}
`,
  );
  const conf = path.join(dir, 'dovecot.conf');
  const pidFile = path.join(dir, 'run', 'master.pid');
  const d: Dovecot = {
    host: '127.0.0.1',
    port,
    dir,
    async start() {
      // dovecot daemonises; its output goes to the log file, not to pipes a daemon would hold open
      await new Promise<void>((resolve, reject) => {
        const child = spawn('dovecot', ['-c', conf], { stdio: 'ignore' });
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`dovecot exited ${code}: see ${dir}/dovecot.log`))));
      });
      await until('the port', () => portOpen(port));
    },
    async stop() {
      if (!fs.existsSync(pidFile)) return;
      const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      await until('the port to close', async () => !(await portOpen(port)));
      await until('the master to exit', async () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      });
    },
    async append(user, raw, folder = 'INBOX') {
      // Right after a start or a maildir reset Dovecot may still be creating the
      // user's folders (the watcher logs in at the same moment) and answer a
      // command NO: try again on a fresh connection, from the first message
      // that was not stored (an APPEND answered NO stored nothing).
      const messages = Array.isArray(raw) ? raw : [raw];
      let stored = 0;
      let uid = 0;
      for (let attempt = 1; ; attempt++) {
        const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user, pass: PASSWORD }, logger: false });
        try {
          await client.connect();
          if (folder !== 'INBOX') await client.mailboxCreate(folder).catch(() => undefined);
          // several messages over one connection, in order
          for (; stored < messages.length; stored++) {
            const r = await client.append(folder, messages[stored]!);
            uid = r ? Number(r.uid) : 0;
          }
          await client.logout();
          return uid;
        } catch (err) {
          client.close();
          if (attempt === 5) throw err;
          await new Promise((r) => setTimeout(r, 300 * attempt));
        }
      }
    },
    async resetMaildir(user) {
      fs.rmSync(path.join(dir, 'mail', user), { recursive: true, force: true });
    },
    async cleanup() {
      await d.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await d.start();
  return d;
}
