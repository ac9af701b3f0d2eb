// The people a fake Apollo knows: generated from a seed, so the same seed
// always yields the same people in the same order (tests and benchmarks can
// rely on it). Variety on purpose: several countries and zones, people without
// an email, unknown industries and countries Apollo spells its own way.

export interface FakeOrganization {
  id: string;
  name: string;
  primary_domain: string;
  website_url: string;
  industry: string | null;
  estimated_num_employees: number;
  city: string;
  state: string | null;
  country: string;
}

export interface FakePerson {
  id: string;
  first_name: string;
  last_name: string;
  title: string;
  seniority: string;
  /** null: Apollo has no email for this person (search says has_email: false). */
  email: string | null;
  /** has_email says true but the match reveals nothing (it happens). */
  revealFails: boolean;
  email_status: 'verified' | 'extrapolated' | 'unavailable';
  linkedin_url: string;
  city: string | null;
  state: string | null;
  country: string | null;
  organization: FakeOrganization;
}

/** mulberry32: small, fast and good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  'Kevin', 'Priya', 'Lena', 'Marcus', 'Aisha', 'Tom', 'Sofia', 'Rahul', 'Emma', 'Jonas', 'Chloe', 'Diego',
  'Hannah', 'Arjun', 'Olivia', 'Felix', 'Grace', 'Noah', 'Mia', 'Liam', 'Ananya', 'Lukas', 'Zoe', 'Ethan',
  'Isabel', 'Kenji', 'Fatima', 'Jack', 'Ava', 'Mateo', 'Ruby', 'Vikram', 'Clara', 'Samuel', 'Nora', 'Omar',
];
const LAST = [
  'Forrester', 'Sharma', 'Schmidt', 'Okafor', 'Nguyen', 'Walsh', 'Rossi', 'Patel', 'Müller', 'Johnson',
  'Kowalski', 'Fernandez', 'Becker', 'Iyer', 'Thompson', 'Weber', 'Murphy', 'Tanaka', 'Silva', 'Brown',
  'Khan', 'Fischer', 'Martin', 'Reddy', 'Clarke', 'Wagner', 'Lopez', 'Hughes', 'Kumar', 'Evans',
];
const TITLES: [string, string][] = [
  ['Purchasing Manager', 'manager'],
  ['Head of Procurement', 'head'],
  ['Plant Manager', 'manager'],
  ['VP Operations', 'vp'],
  ['CEO', 'c_suite'],
  ['Technical Director', 'director'],
  ['Maintenance Engineer', 'senior'],
  ['Supply Chain Lead', 'senior'],
  ['Owner', 'owner'],
];
/** [city, state, country as Apollo writes it] */
const PLACES: [string, string | null, string][] = [
  ['San Francisco', 'California', 'United States'],
  ['Houston', 'Texas', 'United States'],
  ['New York', 'New York', 'United States'],
  ['Chicago', 'Illinois', 'United States'],
  ['Denver', 'Colorado', 'United States'],
  ['Phoenix', 'Arizona', 'United States'],
  ['Honolulu', 'Hawaii', 'United States'],
  ['Mumbai', 'Maharashtra', 'India'],
  ['Bengaluru', 'Karnataka', 'India'],
  ['Munich', 'Bavaria', 'Germany'],
  ['Hamburg', 'Hamburg', 'Germany'],
  ['Sydney', 'New South Wales', 'Australia'],
  ['Perth', 'Western Australia', 'Australia'],
  ['London', 'England', 'United Kingdom'],
  ['Toronto', 'Ontario', 'Canada'],
  ['Vancouver', 'British Columbia', 'Canada'],
  ['São Paulo', 'Sao Paulo', 'Brazil'],
  ['Osaka', null, 'Japan'],
  ['Dubai', null, 'United Arab Emirates'],
  ['Rotterdam', 'South Holland', 'Netherlands'],
];
const INDUSTRIES: (string | null)[] = [
  'lubricants', 'chemicals', 'oil & energy', 'automotive', 'machinery', 'mining & metals',
  'logistics & supply chain', 'food production', null, null,
];
const ORG_A = ['Apex', 'Blue', 'Nord', 'Delta', 'Vertex', 'Iron', 'Solar', 'Prime', 'Terra', 'Quantum', 'Summit', 'Hydra'];
const ORG_B = ['Lube', 'Chem', 'Tech', 'Motion', 'Works', 'Fluid', 'Gear', 'Oil', 'Dynamics', 'Industrial'];
const ORG_C = ['Inc', 'GmbH', 'Ltd', 'Pvt Ltd', 'Pty Ltd', 'LLC', 'Corp'];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

function hexId(rand: () => number): string {
  let s = '';
  for (let i = 0; i < 24; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

function ascii(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ü/g, 'u')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

export interface PeopleOptions {
  seed: number;
  count: number;
  /** Share of people Apollo has no email for (search: has_email false). */
  noEmailRate: number;
  /** Share of has_email people whose match still reveals no email. */
  revealFailRate: number;
}

export function generatePeople({ seed, count, noEmailRate, revealFailRate }: PeopleOptions): FakePerson[] {
  const rand = seededRandom(seed);
  const orgs: FakeOrganization[] = [];
  const orgCount = Math.max(1, Math.ceil(count / 4));
  const domains = new Set<string>();
  for (let i = 0; i < orgCount; i++) {
    const [city, state, country] = pick(rand, PLACES);
    const base = `${pick(rand, ORG_A)} ${pick(rand, ORG_B)}`;
    let domain = `${ascii(base)}.${country === 'Germany' ? 'de' : country === 'India' ? 'in' : country === 'Australia' ? 'com.au' : 'com'}`;
    for (let n = 2; domains.has(domain); n++) domain = domain.replace(/^([a-z]+)\d*\./, `$1${n}.`);
    domains.add(domain);
    orgs.push({
      id: hexId(rand),
      name: `${base} ${pick(rand, ORG_C)}`,
      primary_domain: domain,
      website_url: `http://www.${domain}`,
      industry: pick(rand, INDUSTRIES),
      estimated_num_employees: 5 + Math.floor(rand() * 2000),
      city,
      state,
      country,
    });
  }
  const emails = new Set<string>();
  const people: FakePerson[] = [];
  for (let i = 0; i < count; i++) {
    const org = pick(rand, orgs);
    const first = pick(rand, FIRST);
    const last = pick(rand, LAST);
    const [title, seniority] = pick(rand, TITLES);
    const hasEmail = rand() >= noEmailRate;
    const revealFails = hasEmail && rand() < revealFailRate;
    let local = `${ascii(first)}.${ascii(last)}`;
    for (let n = 2; emails.has(`${local}@${org.primary_domain}`); n++) local = `${ascii(first)}.${ascii(last)}${n}`;
    const email = `${local}@${org.primary_domain}`;
    emails.add(email);
    // Most people live where their company is; some elsewhere, a few without a usable country.
    const r = rand();
    const [city, state, country] =
      r < 0.75 ? [org.city, org.state, org.country] : r < 0.95 ? pick(rand, PLACES) : [null, null, r < 0.975 ? 'Atlantis' : null];
    people.push({
      id: hexId(rand),
      first_name: first,
      last_name: last,
      title,
      seniority,
      email: hasEmail ? email : null,
      revealFails,
      email_status: !hasEmail || revealFails ? 'unavailable' : rand() < 0.8 ? 'verified' : 'extrapolated',
      linkedin_url: `http://www.linkedin.com/in/${ascii(first)}-${ascii(last)}-${i.toString(36)}`,
      city,
      state,
      country,
      organization: org,
    });
  }
  return people;
}

/** "Forrester" → "Fo***r", as Apollo's search shows last names. */
export function obfuscate(name: string): string {
  return name.length <= 3 ? `${name[0]}***` : `${name.slice(0, 2)}***${name.slice(-1)}`;
}
