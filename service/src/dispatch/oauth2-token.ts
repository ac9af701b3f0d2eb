// OAuth2 access tokens for XOAUTH2 (Google Workspace, Microsoft 365), from the
// mailbox's refresh token at its token URL. nodemailer's SMTP connection asks
// getToken(false) to log in and, when the server refuses that token, getToken(true)
// once: an expired token is refreshed exactly once, then the login fails.

export class OAuth2Error extends Error {
  override name = 'OAuth2Error';
  constructor(
    /** oauth2_revoked: the refresh token (or client) is refused, a person must reconnect; oauth2_unavailable: try later. */
    readonly reason: 'oauth2_revoked' | 'oauth2_unavailable',
    message: string,
  ) {
    super(message);
  }
}

export interface OAuth2Settings {
  user: string;
  clientId: string;
  clientSecret: string | undefined;
  refreshToken: string | undefined;
  tokenUrl: string;
  /** Sent with every refresh when set: Microsoft's v2.0 token endpoint wants the scopes again. */
  scope?: string | null;
}

/** What nodemailer's SMTPConnection takes as `auth.oauth2`. */
export interface XOAuth2Provider {
  getToken(renew: boolean, callback: (err: Error | null, accessToken?: string) => void): void;
  buildXOAuth2Token(accessToken: string): string;
}

export function createTokenSource(settings: OAuth2Settings, timeoutMs = 15_000): XOAuth2Provider & { refreshes: number } {
  let cached: { token: string; expiresAt: number } | undefined;
  const source = {
    refreshes: 0,
    getToken(renew: boolean, callback: (err: Error | null, accessToken?: string) => void) {
      if (!renew && cached && cached.expiresAt > Date.now() + 60_000) return callback(null, cached.token);
      source.refreshes += 1;
      refresh(settings, timeoutMs).then(
        (t) => {
          cached = t;
          callback(null, t.token);
        },
        (err: Error) => callback(err),
      );
    },
    buildXOAuth2Token(accessToken: string) {
      return Buffer.from(`user=${settings.user}\x01auth=Bearer ${accessToken}\x01\x01`, 'utf8').toString('base64');
    },
  };
  return source;
}

async function refresh(s: OAuth2Settings, timeoutMs: number): Promise<{ token: string; expiresAt: number }> {
  if (!s.refreshToken) {
    throw new OAuth2Error('oauth2_revoked', 'The mailbox has no OAuth2 refresh token: enter it with PUT /v1/senders/:id.');
  }
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: s.refreshToken, client_id: s.clientId });
  if (s.clientSecret) body.set('client_secret', s.clientSecret);
  if (s.scope) body.set('scope', s.scope);
  let res: Response;
  try {
    res = await fetch(s.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new OAuth2Error('oauth2_unavailable', `The OAuth2 token endpoint ${s.tokenUrl} could not be reached (${(err as Error).message}).`);
  }
  const json = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
  if (res.ok && typeof json.access_token === 'string') {
    return { token: json.access_token, expiresAt: Date.now() + (Number(json.expires_in) || 3600) * 1000 };
  }
  // RFC 6749 §5.2: invalid_grant (revoked or expired refresh token), invalid_client,
  // unauthorized_client are decisions of the provider; only a person can fix them.
  if (res.status >= 400 && res.status < 500 && ['invalid_grant', 'invalid_client', 'unauthorized_client'].includes(json.error ?? '')) {
    throw new OAuth2Error(
      'oauth2_revoked',
      `The OAuth2 provider refused the mailbox's refresh token (${json.error}${json.error_description ? `: ${json.error_description}` : ''}): ` +
        'reconnect the mailbox and store the new refresh token with PUT /v1/senders/:id.',
    );
  }
  throw new OAuth2Error('oauth2_unavailable', `The OAuth2 token endpoint answered ${res.status}${json.error ? ` (${json.error})` : ''}.`);
}
