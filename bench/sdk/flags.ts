/**
 * Seeded, realistic flag sets for the cold-start and heap measurements: a mix of boolean, string, number
 * and JSON flags with user and organization targets, rules of 1-4 clauses over the usual operators,
 * percentage rollouts and some prerequisites. The same seed always gives the same flags and contexts, so
 * both SDKs load exactly the same data and a run can be reproduced.
 */
import type { Clause, Flag, FlagRule, JsonObject, JsonValue, Rollout, Target } from '@flagstaff/eval';
import { Random } from '../lib/random.js';

/** Context keys are drawn from this many users and organizations, so target lists and contexts overlap. */
const USER_KEYS = 1000;
const ORG_KEYS = 200;

const COUNTRIES = ['us', 'ca', 'gb', 'de', 'fr', 'jp', 'br', 'in'];
const PLANS = ['free', 'pro', 'team', 'enterprise'];
const TIERS = ['bronze', 'silver', 'gold', 'platinum'];
const AREAS = ['checkout', 'search', 'billing', 'onboarding', 'profile', 'reports', 'editor', 'mobile'];
const FEATURES = ['redesign', 'fast-path', 'beta', 'kill-switch', 'rollout', 'limits', 'banner', 'cache'];
// Around the generation date, so before/after clauses fall on both sides of the contexts' dates.
const EPOCH_MS = Date.UTC(2025, 0, 1);
const DAY_MS = 86_400_000;

function pick<T>(random: Random, values: readonly T[]): T {
  return values[random.below(values.length)]!;
}

function some<T>(random: Random, values: readonly T[], min: number): T[] {
  const out = values.filter(() => random.below(2) === 0);
  for (const value of values) if (out.length < min && !out.includes(value)) out.push(value);
  return out;
}

function userKey(random: Random): string {
  return `user-${random.below(USER_KEYS)}`;
}

function orgKey(random: Random): string {
  return `org-${random.below(ORG_KEYS)}`;
}

function version(random: Random): string {
  const core = `${1 + random.below(3)}.${random.below(10)}.${random.below(5)}`;
  return random.below(5) === 0 ? `${core}-beta.${random.below(4)}` : core;
}

function variations(random: Random): JsonValue[] {
  const type = random.below(20);
  if (type < 12) return [true, false];
  if (type < 17) {
    const names = ['control', 'treatment-a', 'treatment-b', 'treatment-c'];
    return names.slice(0, 2 + random.below(3));
  }
  if (type < 18) return [0, 10, 100, 1000].slice(0, 2 + random.below(3));
  return Array.from({ length: 2 + random.below(2) }, (_, i) => ({
    name: `config-${i}`,
    limit: 10 * (i + 1),
    enabled: i > 0,
    regions: COUNTRIES.slice(0, 1 + i),
  }));
}

function rollout(random: Random, count: number): Rollout {
  const n = Math.min(count, 2 + random.below(2));
  const weights: number[] = [];
  let left = 100_000;
  for (let i = 0; i < n - 1; i++) {
    const weight = random.below(left + 1);
    weights.push(weight);
    left -= weight;
  }
  weights.push(left);
  const result: Rollout = { variations: weights.map((weight, variation) => ({ variation, weight })) };
  const extra = random.below(10);
  if (extra === 0) {
    result.kind = 'experiment';
    result.seed = random.below(1_000_000);
  } else if (extra === 1) {
    result.bucketBy = 'email';
  }
  return result;
}

function userClause(attribute: string, op: Clause['op'], values: JsonValue[]): Clause {
  return { contextKind: 'user', attribute, op, values, negate: false };
}

/** One clause over an attribute the generated contexts carry, with values that match some of them. */
function clause(random: Random): Clause {
  let result: Clause;
  switch (random.below(12)) {
    case 0:
      result = userClause('country', 'in', some(random, COUNTRIES, 1));
      break;
    case 1:
      result = userClause(
        'key',
        'in',
        Array.from({ length: 5 + random.below(26) }, () => userKey(random)),
      );
      break;
    case 2:
      result = userClause('email', 'endsWith', [pick(random, ['@example.com', '@corp.example.org'])]);
      break;
    case 3:
      result = userClause('name', 'startsWith', [`User ${1 + random.below(9)}`]);
      break;
    case 4:
      result = userClause('email', 'contains', [`${random.below(10)}@`]);
      break;
    case 5:
      result = userClause('email', 'matches', [`^user-\\d*${random.below(10)}@`]);
      break;
    case 6:
      result = userClause('age', pick(random, ['lessThan', 'greaterThanOrEqual']), [18 + random.below(50)]);
      break;
    case 7:
      result = userClause(
        'appVersion',
        pick(random, ['semVerLessThan', 'semVerGreaterThan', 'semVerEqual']),
        [version(random)],
      );
      break;
    case 8: {
      const date = EPOCH_MS + (random.below(730) - 365) * DAY_MS;
      // Both forms the data model allows: epoch milliseconds and RFC 3339 strings.
      const value = random.below(2) === 0 ? date : new Date(date).toISOString();
      result = userClause('createdAt', pick(random, ['before', 'after']), [value]);
      break;
    }
    case 9:
      result = userClause('plan', 'in', some(random, PLANS, 1));
      break;
    case 10:
      result = {
        contextKind: 'organization',
        attribute: 'tier',
        op: 'in',
        values: some(random, TIERS, 1),
        negate: false,
      };
      break;
    default:
      result = {
        contextKind: 'organization',
        attribute: 'seats',
        op: 'greaterThan',
        values: [random.below(500)],
        negate: false,
      };
  }
  if (random.below(7) === 0) result.negate = true;
  return result;
}

function rule(random: Random, index: number, count: number): FlagRule {
  const clauses = Array.from({ length: 1 + random.below(4) }, () => clause(random));
  const result: FlagRule = { id: `rule-${index}-${random.hex(8)}`, clauses, trackEvents: false };
  if (random.below(10) < 3) result.rollout = rollout(random, count);
  else result.variation = random.below(count);
  return result;
}

function flag(random: Random, index: number, earlier: readonly string[]): Flag {
  const values = variations(random);
  const count = values.length;
  const key = `${pick(random, AREAS)}-${pick(random, FEATURES)}-${index}`;
  const targets: Target[] = [];
  const contextTargets: Target[] = [];
  if (random.below(10) < 4) {
    for (let t = 0, n = 1 + random.below(2); t < n; t++) {
      const keys = Array.from({ length: 1 + random.below(60) }, () => userKey(random));
      const variation = (t + random.below(count)) % count;
      targets.push({ values: [...new Set(keys)], variation });
      // How the service writes user targets into contextTargets: the keys stay in `targets`.
      contextTargets.push({ contextKind: 'user', values: [], variation });
    }
  }
  if (random.below(10) < 2) {
    const keys = Array.from({ length: 1 + random.below(20) }, () => orgKey(random));
    contextTargets.push({
      contextKind: 'organization',
      values: [...new Set(keys)],
      variation: random.below(count),
    });
  }
  const ruleCount = random.below(10) < 3 ? 0 : 1 + random.below(6);
  const prerequisites =
    earlier.length > 0 && random.below(10) === 0 ? [{ key: pick(random, earlier), variation: 0 }] : [];
  return {
    key,
    version: 1 + random.below(500),
    on: random.below(10) !== 0,
    variations: values,
    offVariation: count - 1,
    fallthrough:
      random.below(10) < 4 ? { rollout: rollout(random, count) } : { variation: random.below(count) },
    salt: random.hex(32),
    targets,
    contextTargets,
    rules: Array.from({ length: ruleCount }, (_, i) => rule(random, i, count)),
    prerequisites,
    trackEvents: false,
    trackEventsFallthrough: false,
    clientSideAvailability: { usingMobileKey: false, usingEnvironmentId: random.below(4) === 0 },
    deleted: false,
  };
}

/** `count` flags; a flag's prerequisites are only ever earlier flags, so there are no cycles. */
export function generateFlags(count: number, seed: number): Flag[] {
  const random = new Random(seed);
  const flags: Flag[] = [];
  for (let i = 0; i < count; i++)
    flags.push(
      flag(
        random,
        i,
        flags.map((f) => f.key),
      ),
    );
  return flags;
}

/** Users, and for every other one a multi-kind context of the user and their organization. */
export function generateContexts(count: number, seed: number): JsonObject[] {
  const random = new Random(seed);
  return Array.from({ length: count }, (_, i): JsonObject => {
    const n = random.below(USER_KEYS);
    const user: JsonObject = {
      key: `user-${n}`,
      name: `User ${n}`,
      email: `user-${n}@${random.below(4) === 0 ? 'corp.example.org' : 'example.com'}`,
      country: pick(random, COUNTRIES),
      plan: pick(random, PLANS),
      age: 16 + random.below(60),
      appVersion: version(random),
      createdAt: EPOCH_MS + (random.below(730) - 365) * DAY_MS,
    };
    if (i % 2 === 0) return { kind: 'user', ...user };
    const organization: JsonObject = {
      key: orgKey(random),
      tier: pick(random, TIERS),
      seats: random.below(1000),
    };
    return { kind: 'multi', user, organization };
  });
}

/** The file both SDKs' file data sources read: LaunchDarkly's `{ "flags": { key: flag } }` format. */
export function flagFileJson(flags: readonly Flag[]): string {
  return JSON.stringify({ flags: Object.fromEntries(flags.map((f) => [f.key, f])), segments: {} });
}
