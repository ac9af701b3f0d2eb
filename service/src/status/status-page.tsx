/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { Send } from '../sends/send-schema';
import type { StatusEvent, StatusPageData, SenderToday } from './status-data';

// Server-rendered markup of the status page: no front-end build, no inline
// script or style (the page's CSP forbids both); charts are drawn by
// /status/assets/status.js from the JSON in <script type="application/json">,
// and every chart has a table with the same numbers for screen readers.

const nf = new Intl.NumberFormat('en-US');
const n = (v: number) => nf.format(v);

/** Health and ramp-up as GET /v1/senders/{id} reports them, in words: its plain fields, "status" first. */
function describe(o: Record<string, unknown>): string {
  return Object.entries(o)
    .filter(([, v]) => v !== null && ['string', 'number', 'boolean'].includes(typeof v))
    .sort(([a], [b]) => (a === 'status' ? -1 : b === 'status' ? 1 : 0))
    .map(([k, v]) => (k === 'status' ? String(v) : `${k.replace(/([A-Z])/g, ' $1').toLowerCase()} ${typeof v === 'number' ? n(v) : String(v)}`))
    .join(' · ');
}

function Layout(props: { title: string; children: Child; signedIn?: { csrf: string } }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{props.title}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/status/assets/uplot.css" />
        <link rel="stylesheet" href="/status/assets/status.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">Corofy</span>
          <nav aria-label="Service">
            <a href="/docs">API docs</a>
            <a href="/readyz">Readiness</a>
            {props.signedIn && (
              <form method="post" action="/status/sign-out" class="inline">
                <input type="hidden" name="csrf" value={props.signedIn.csrf} />
                <button type="submit" class="link">Sign out</button>
              </form>
            )}
          </nav>
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}

export function SignInPage(props: { error?: string }) {
  return (
    <Layout title="Sign in · Corofy">
      <section class="card signin" aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to the status page</h1>
        <p>Use the service's API key (<code>COROFY_API_KEY</code>, or <code>.corofy/data/api-key</code> on the embedded database). The key is not stored: the browser keeps only a session cookie that scripts cannot read.</p>
        {props.error && (
          <p class="alert" role="alert" id="signin-error">
            {props.error}
          </p>
        )}
        <form method="post" action="/status/sign-in">
          <label for="apiKey">API key</label>
          <input id="apiKey" name="apiKey" type="password" autocomplete="current-password" required
            aria-describedby={props.error ? 'signin-error' : undefined} />
          <button type="submit">Sign in</button>
        </form>
      </section>
    </Layout>
  );
}

export function StatusPage(props: { data: StatusPageData; csrf: string; notice?: string; error?: string; generatedAt: Date }) {
  const { data, csrf } = props;
  return (
    <Layout title="Status · Corofy" signedIn={{ csrf }}>
      <div class="titlebar">
        <h1>Today, {data.today.day}</h1>
        <p class="muted">
          Days are {data.today.timezone} days; each sender's row uses its own time zone. Updated{' '}
          <time datetime={props.generatedAt.toISOString()}>{props.generatedAt.toISOString().slice(11, 16)} UTC</time>.{' '}
          <a href="/">Refresh</a>
        </p>
      </div>
      {props.notice && <p class="notice" role="status">{props.notice}</p>}
      {props.error && <p class="alert" role="alert">{props.error}</p>}
      <div class="grid">
        <Mailboxes senders={data.today.senders} />
        <Funnel data={data} />
        <Queue data={data} />
        <Attention title="Needs review" id="needs-review" sends={data.needsReview} csrf={csrf}
          empty="No send with an unknown outcome." explain="The lease ran out while sending: the email may or may not have gone out. Retry only if you are sure it did not." />
        <Attention title="Dead letters" id="dead-letters" sends={data.deadLetters} csrf={csrf}
          empty="No dead letters." explain="Sending failed for good (a permanent error, or every retry used up)." />
        <Events events={data.events} />
        <History data={data} />
      </div>
      <script type="application/json" id="chart-data"
        dangerouslySetInnerHTML={{ __html: JSON.stringify({ queue: data.queue, history: data.history }).replace(/</g, '\\u003c') }} />
      <script src="/status/assets/uplot.js" defer></script>
      <script src="/status/assets/status.js" defer></script>
    </Layout>
  );
}

function Panel(props: { id: string; title: string; wide?: boolean; children: Child }) {
  return (
    <section class={props.wide ? 'card wide' : 'card'} id={props.id} aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      {props.children}
    </section>
  );
}

function Mailboxes(props: { senders: SenderToday[] }) {
  const pool = props.senders.reduce(
    (a, s) => ({ quota: a.quota + s.quota, used: a.used + s.used, remaining: a.remaining + s.remaining }),
    { quota: 0, used: 0, remaining: 0 },
  );
  const paused = props.senders.filter((s) => s.paused).length;
  return (
    <Panel id="mailboxes" title="Mailboxes today" wide>
      <table>
        <caption class="sr-only">Each sender's limit today (lowered by ramp-up), what is used and what is left, its health and whether it is paused</caption>
        <thead>
          <tr><th scope="col">Sender</th><th scope="col">Time zone</th><th scope="col" class="num">Limit</th><th scope="col" class="num">Used</th><th scope="col" class="num">Left</th><th scope="col">Use</th><th scope="col">Health</th><th scope="col">Paused</th></tr>
        </thead>
        <tbody>
          {props.senders.map((s) => (
            <tr data-sender={s.sender}>
              <th scope="row">
                {s.sender}
                <span class="sub">{s.fromEmail ? `${s.fromName ?? ''} <${s.fromEmail}>` : s.fromName ?? ''}</span>
                {(!s.fromName || !s.postalAddress) && <span class="badge warn">cannot compose: {!s.fromName ? 'no from name' : 'no postal address'}</span>}
              </th>
              <td>{s.timezone}</td>
              <td class="num">
                <span data-field="quota">{n(s.quota)}</span>
                {s.quota !== s.dailyQuota && <span class="sub" data-field="daily-quota">quota {n(s.dailyQuota)}</span>}
                {s.ramp && <span class="sub" data-field="ramp">ramp-up: {describe(s.ramp)}</span>}
              </td>
              <td class="num" data-field="used">{n(s.used)}</td>
              <td class="num" data-field="remaining">{n(s.remaining)}</td>
              <td><meter min={0} max={Math.max(s.quota, 1)} value={s.used} aria-label={`${s.sender}: ${s.used} of ${s.quota} used`}></meter></td>
              <td data-field="health">{s.health ? describe(s.health) : <span class="muted">not tracked yet</span>}</td>
              <td data-field="paused">
                {s.paused ? (
                  <>
                    <span class="badge bounce">paused</span>
                    <span class="sub">{s.paused.reason ?? s.paused.code ?? 'no reason recorded'}</span>
                    <span class="sub">since <time datetime={s.paused.at}>{s.paused.at.slice(0, 16).replace('T', ' ')} UTC</time></span>
                  </>
                ) : (
                  'no'
                )}
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-sender="(pool)">
            <th scope="row">Pool</th><td></td>
            <td class="num"><span data-field="quota">{n(pool.quota)}</span></td>
            <td class="num" data-field="used">{n(pool.used)}</td>
            <td class="num" data-field="remaining">{n(pool.remaining)}</td>
            <td><meter min={0} max={Math.max(pool.quota, 1)} value={pool.used} aria-label={`pool: ${pool.used} of ${pool.quota} used`}></meter></td>
            <td></td>
            <td data-field="paused">{paused === 0 ? 'none' : `${paused} of ${props.senders.length}`}</td>
          </tr>
        </tfoot>
      </table>
    </Panel>
  );
}

function Funnel(props: { data: StatusPageData }) {
  const { today } = props.data;
  const sum = (k: keyof SenderToday) => today.senders.reduce((a, s) => a + (s[k] as number), 0);
  const tiles: [string, string, number, string?][] = [
    ['searched', 'Searched', today.searched.leadsAdded, `${n(today.searched.creditsUsed)} Apollo credits`],
    ['claimed', 'Claimed', sum('batchedLeads')],
    ['composed', 'Composed', today.composed.catalog + today.composed.website + today.composed.generic,
      `catalog ${n(today.composed.catalog)} · website ${n(today.composed.website)} · generic ${n(today.composed.generic)}`],
    ['sent', 'Sent', sum('sent'), sum('sending') > 0 ? `${n(sum('sending'))} sending` : undefined],
    ['scheduled', 'Scheduled', sum('scheduled')],
    ['failed', 'Retrying', sum('failed')],
    ['cancelled', 'Cancelled', sum('cancelled')],
    ['replied', 'Replied', sum('replied')],
    ['bounced', 'Bounced', sum('bounced')],
  ];
  return (
    <Panel id="funnel" title="Today's funnel" wide>
      <dl class="tiles">
        {tiles.map(([key, label, value, sub]) => (
          <div class="tile" data-stat={key}>
            <dt>{label}</dt>
            <dd><span class="value">{n(value)}</span>{sub && <span class="sub">{sub}</span>}</dd>
          </div>
        ))}
      </dl>
    </Panel>
  );
}

function Queue(props: { data: StatusPageData }) {
  const { hours } = props.data.queue;
  const zones = [...new Set(hours.map((h) => h.timezone))].sort();
  const byHour = new Map<string, Map<string, number>>();
  for (const h of hours) {
    const row = byHour.get(h.hour) ?? new Map<string, number>();
    row.set(h.timezone, h.count);
    byHour.set(h.hour, row);
  }
  const total = hours.reduce((a, h) => a + h.count, 0);
  return (
    <Panel id="queue" title="Queue: the next 24 hours" wide>
      <p class="muted" data-field="queue-total">{n(total)} {total === 1 ? 'email' : 'emails'} waiting, by the hour they go out (UTC) and the recipient's time zone.</p>
      {total > 0 ? (
        <>
          <div class="chart" id="queue-chart" role="img" aria-label="Scheduled emails per hour for the next 24 hours"></div>
          <details>
            <summary>Table</summary>
            <table>
              <thead><tr><th scope="col">Hour (UTC)</th>{zones.map((z) => <th scope="col" class="num">{z}</th>)}</tr></thead>
              <tbody>
                {[...byHour.entries()].map(([hour, row]) => (
                  <tr><th scope="row"><time datetime={hour}>{hour.slice(0, 16).replace('T', ' ')}</time></th>{zones.map((z) => <td class="num">{row.get(z) ?? ''}</td>)}</tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      ) : (
        <p class="empty">Nothing scheduled for the next 24 hours.</p>
      )}
    </Panel>
  );
}

function Attention(props: { id: string; title: string; sends: Send[]; csrf: string; empty: string; explain: string }) {
  return (
    <Panel id={props.id} title={`${props.title} (${props.sends.length})`}>
      <p class="muted">{props.explain}</p>
      {props.sends.length === 0 ? (
        <p class="empty">{props.empty}</p>
      ) : (
        <table>
          <thead><tr><th scope="col">Send</th><th scope="col">To</th><th scope="col">Reason</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {props.sends.map((s) => (
              <tr data-send={s.sendId}>
                <th scope="row">#{s.sendId}<span class="sub">step {s.step} · {s.sender}</span></th>
                <td>{s.to}<span class="sub">{s.subject}</span></td>
                <td class="reason">{s.lastError ?? (s.status === 'needs_review' ? 'the outcome of sending is unknown' : 'no reason recorded')}</td>
                <td class="actions">
                  <ActionButton csrf={props.csrf} sendId={s.sendId} action="retry" label="Retry" primary />
                  <ActionButton csrf={props.csrf} sendId={s.sendId} action="discard" label="Discard" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

function ActionButton(props: { csrf: string; sendId: string; action: 'retry' | 'discard'; label: string; primary?: boolean }) {
  return (
    <form method="post" action={`/status/sends/${props.sendId}/${props.action}`} class="inline">
      <input type="hidden" name="csrf" value={props.csrf} />
      <button type="submit" class={props.primary ? 'small' : 'small secondary'} aria-label={`${props.label} send ${props.sendId}`}>
        {props.label}
      </button>
    </form>
  );
}

const KIND_LABEL: Record<StatusEvent['kind'], string> = {
  reply: 'Reply',
  bounce: 'Bounce',
  complaint: 'Complaint',
  unsubscribe: 'Unsubscribe',
};

function Events(props: { events: StatusEvent[] }) {
  return (
    <Panel id="events" title="Recent events" wide>
      {props.events.length === 0 ? (
        <p class="empty">No replies, bounces, complaints or unsubscribes yet.</p>
      ) : (
        <table>
          <thead><tr><th scope="col">When (UTC)</th><th scope="col">Kind</th><th scope="col">From</th><th scope="col">Message</th></tr></thead>
          <tbody>
            {props.events.map((e) => (
              <tr data-event={e.id} data-kind={e.kind}>
                <td><time datetime={e.receivedAt}>{e.receivedAt.slice(0, 16).replace('T', ' ')}</time></td>
                <td><span class={`badge ${e.kind}`}>{KIND_LABEL[e.kind]}</span></td>
                <td>{e.email ?? '—'}</td>
                <td>{e.subject && <strong>{e.subject}</strong>}<span class="sub">{e.snippet}</span></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

function History(props: { data: StatusPageData }) {
  const { days, steps } = props.data.history;
  const totals = days.reduce(
    (a, d) => ({ sent: a.sent + d.sent, replies: a.replies + d.replies, bounces: a.bounces + d.bounces,
      apolloCredits: a.apolloCredits + d.apolloCredits, openaiTokens: a.openaiTokens + d.openaiTokens }),
    { sent: 0, replies: 0, bounces: 0, apolloCredits: 0, openaiTokens: 0 },
  );
  return (
    <Panel id="history" title="The last 30 days" wide>
      <div class="chart" id="history-chart" role="img" aria-label="Sends, replies and bounces per day over the last 30 days"></div>
      <div class="chart small" id="credits-chart" role="img" aria-label="Apollo credits per day over the last 30 days"></div>
      <div class="chart small" id="tokens-chart" role="img" aria-label="OpenAI tokens per day over the last 30 days"></div>
      <p class="muted">
        {n(totals.sent)} sent, {n(totals.replies)} {totals.replies === 1 ? 'reply' : 'replies'}, {n(totals.bounces)} {totals.bounces === 1 ? 'bounce' : 'bounces'}, {n(totals.apolloCredits)} Apollo credits
        and {n(totals.openaiTokens)} OpenAI tokens in 30 days; each sender's own days, as <code>GET /v1/stats</code> counts them.
      </p>
      <h3>Reply rate per sequence step</h3>
      <p class="muted">Replies received in these 30 days to emails of each step, against the emails of that step sent in them.</p>
      {steps.length === 0 ? (
        <p class="empty">Nothing sent in the last 30 days.</p>
      ) : (
        <table>
          <thead><tr><th scope="col">Step</th><th scope="col" class="num">Sent</th><th scope="col" class="num">Replies</th><th scope="col" class="num">Reply rate</th></tr></thead>
          <tbody>
            {steps.map((s) => (
              <tr data-step={s.step}><th scope="row">{s.step}</th><td class="num" data-field="sent">{n(s.sent)}</td><td class="num" data-field="replies">{n(s.replies)}</td><td class="num" data-field="reply-rate">{s.sent > 0 ? `${((100 * s.replies) / s.sent).toFixed(1)} %` : '—'}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <details>
        <summary>Table per day</summary>
        <table>
          <thead><tr><th scope="col">Day</th><th scope="col" class="num">Sent</th><th scope="col" class="num">Replies</th><th scope="col" class="num">Bounces</th><th scope="col" class="num">Complaints</th><th scope="col" class="num">Unsubscribes</th><th scope="col" class="num">Apollo credits</th><th scope="col" class="num">OpenAI tokens</th></tr></thead>
          <tbody>
            {days.map((d) => (
              <tr data-day={d.day}>
                <th scope="row">{d.day}</th><td class="num" data-field="sent">{n(d.sent)}</td><td class="num" data-field="replies">{n(d.replies)}</td>
                <td class="num" data-field="bounces">{n(d.bounces)}</td><td class="num" data-field="complaints">{n(d.complaints)}</td>
                <td class="num" data-field="unsubscribes">{n(d.unsubscribes)}</td><td class="num" data-field="apollo-credits">{n(d.apolloCredits)}</td>
                <td class="num" data-field="openai-tokens">{n(d.openaiTokens)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </Panel>
  );
}
