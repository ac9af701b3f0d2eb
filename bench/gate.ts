// Timezone gate decisions per second, in-process on one core: for a lead
// (country/state/city or zone) and an instant, resolve the recipient's zone and
// find the earliest legal sending instant and its window end, public holidays
// included. Compared with a naive luxon DateTime-per-decision baseline.
// Prints one JSON object.
//   node --import tsx bench/gate.ts            (BENCH_SECONDS=3 per measurement, in 6 rounds)
import os from 'node:os';
import Holidays from 'date-holidays';
import { DateTime } from 'luxon';
import { resolveRecipientTimezone, type LeadLocation } from '../service/src/timezone/resolve-timezone';
import { nextSendingWindow, type SendingRule } from '../service/src/timezone/sending-window';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = 6;
const RULE: SendingRule = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', skipHolidays: true };

const PLACES: LeadLocation[] = [
  { country: 'US', state: 'CA' },
  { country: 'US', state: 'NY' },
  { country: 'US', state: 'TX' },
  { country: 'US' },
  { country: 'USA', city: 'Denver' },
  { country: 'IN' },
  { country: 'India', city: 'Mumbai' },
  { country: 'DE', state: 'BY' },
  { country: 'DEU' },
  { country: 'GB' },
  { country: 'FR' },
  { country: 'AU', state: 'NSW' },
  { country: 'AU', state: 'SA' },
  { country: 'BR' },
  { country: 'CL' },
  { country: 'NZ' },
  { country: 'JP' },
  { country: 'SA' },
  { country: 'CA', state: 'ON' },
  { timezone: 'Asia/Kathmandu', country: 'NP' },
  { timezone: 'Pacific/Kiritimati' },
  { country: 'Atlantis' },
];

// 4096 (lead, instant) pairs spread over two years, cycled through.
const N = 4096;
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const leads = Array.from({ length: N }, (_, i) => PLACES[i % PLACES.length]!);
const instants = Array.from({ length: N }, () => Date.UTC(2026, 0, 1) + Math.floor(random() * 2 * 365 * 86_400_000));

/** Decisions per second: the best and the median of ROUNDS rounds (the machine is shared). */
function measure(decide: (i: number) => number): { best: number; median: number; checksum: number } {
  let checksum = 0;
  for (let i = 0; i < 50_000; i++) checksum += decide(i & (N - 1)); // warm caches and the JIT
  const rates: number[] = [];
  let decisions = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const budget = BigInt(Math.round((SECONDS / ROUNDS) * 1e9));
    const started = process.hrtime.bigint();
    let elapsed = 0n;
    let n = 0;
    while (elapsed < budget) {
      for (let k = 0; k < 5_000; k++, n++, decisions++) checksum += decide(decisions & (N - 1));
      elapsed = process.hrtime.bigint() - started;
    }
    rates.push(n / (Number(elapsed) / 1e9));
  }
  rates.sort((a, b) => a - b);
  return { best: Math.round(rates.at(-1)!), median: Math.round(rates[Math.floor(rates.length / 2)]!), checksum };
}

const corofy = measure((i) => {
  const lead = leads[i]!;
  const { zone } = resolveRecipientTimezone(lead, 'UTC');
  const next = nextSendingWindow({ timezone: zone, country: lead.country ?? undefined, state: lead.state ?? undefined }, RULE, new Date(instants[i]!));
  return next ? next.sendAt.getTime() & 1 : 0;
});

// The naive way: luxon DateTime arithmetic per decision, holidays as precomputed
// sets of ISO dates (date-holidays' own isHoliday() is far slower still).
const holidaySets = new Map<string, Set<string>>();
function holidaySet(country: string | undefined, state: string | undefined, year: number): Set<string> {
  const key = `${country}|${state}|${year}`;
  let set = holidaySets.get(key);
  if (!set) {
    const h = country && new Holidays().getCountries()[country] ? (state ? new Holidays(country, state) : new Holidays(country)) : undefined;
    set = new Set(((h && h.getHolidays(year)) || []).filter((x) => x.type === 'public').map((x) => x.date.slice(0, 10)));
    holidaySets.set(key, set);
  }
  return set;
}
const naive = measure((i) => {
  const lead = leads[i]!;
  const { zone } = resolveRecipientTimezone(lead, 'UTC');
  const from = instants[i]!;
  let day = DateTime.fromMillis(from, { zone }).startOf('day');
  for (let d = 0; d < 30; d++, day = day.plus({ days: 1 })) {
    if (day.weekday > 5 || holidaySet(lead.country ?? undefined, lead.state ?? undefined, day.year).has(day.toISODate()!)) continue;
    const end = day.set({ hour: 17 }).toMillis();
    if (end <= from) continue;
    return Math.max(day.set({ hour: 9 }).toMillis(), from) & 1;
  }
  return 0;
});

process.stdout.write(
  `${JSON.stringify({
    bench: 'gate',
    unit: 'decisions/s (one core, in-process: resolve zone + earliest legal instant + window end, holidays included)',
    decisionsPerSecond: corofy.best,
    decisionsPerSecondMedian: corofy.median,
    goal: 800_000,
    naiveLuxonDecisionsPerSecond: naive.best,
    speedup: Math.round((corofy.best / naive.best) * 10) / 10,
    loadAverage: os.loadavg()[0],
    leads: N,
    places: PLACES.length,
    seconds: SECONDS,
    node: process.version,
  })}\n`,
);
