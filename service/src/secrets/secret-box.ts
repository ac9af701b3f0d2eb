import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

// Mailbox secrets (SMTP/IMAP passwords, OAuth2 client secrets and refresh tokens)
// are stored sealed with AES-256-GCM under COROFY_SECRET_KEY. A sealed value is
// `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts): the key id tells which
// key sealed it, so a rotation can open old values with the previous key and
// reseal them. The additional authenticated data binds a value to its place
// (sender and field): a ciphertext copied to another sender does not open.

export interface SecretBox {
  seal(plaintext: string, place: string): string;
  /** The plaintext; throws SecretKeyError when no configured key opens it. */
  open(sealed: string, place: string): string;
  /** Sealed under a key other than the current one (to be resealed). */
  isStale(sealed: string): boolean;
}

export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

interface Key {
  id: string;
  bytes: Buffer;
}

/** Any string of at least 32 characters; HKDF turns it into the 256-bit AES key. */
function deriveKey(material: string): Key {
  const bytes = Buffer.from(hkdfSync('sha256', Buffer.from(material, 'utf8'), 'corofy', 'corofy mailbox secrets v1', 32));
  const id = createHash('sha256').update(bytes).digest('base64url').slice(0, 8);
  return { id, bytes };
}

export function generateSecretKey(): string {
  return `crfy_sk_${randomBytes(32).toString('base64url')}`;
}

export function createSecretBox(current: string, previous?: string): SecretBox {
  const key = deriveKey(current);
  const keys = new Map<string, Key>([[key.id, key]]);
  if (previous) {
    const old = deriveKey(previous);
    if (!keys.has(old.id)) keys.set(old.id, old);
  }
  return {
    seal(plaintext, place) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
      cipher.setAAD(Buffer.from(place, 'utf8'));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', key.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    open(sealed, place) {
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') throw new SecretKeyError(`A stored secret (${place}) is not in a known format.`);
      const k = keys.get(parts[1]!);
      if (!k) {
        throw new SecretKeyError(
          `A stored secret (${place}) was sealed under another COROFY_SECRET_KEY: set the key it was stored with ` +
            '(or it as COROFY_SECRET_KEY_PREVIOUS while rotating), or enter the secret again.',
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', k.bytes, Buffer.from(parts[2]!, 'base64url'));
        decipher.setAAD(Buffer.from(place, 'utf8'));
        decipher.setAuthTag(Buffer.from(parts[3]!, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(parts[4]!, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretKeyError(`A stored secret (${place}) failed its integrity check: enter it again.`);
      }
    },
    isStale(sealed) {
      return sealed.split('.')[1] !== key.id;
    },
  };
}
