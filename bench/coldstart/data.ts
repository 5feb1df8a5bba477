/**
 * The table the cold-start processes read: 200 generated flags (bench/sdk/flags.ts, seeded) and a few
 * segments that some of the flags' rules use, written with our store's `init` under a prefix, in the
 * layout the seed's v7 store reads too.
 */
import type { Flag, JsonObject, Segment } from '@flagstaff/eval';
import { FEATURES, type KindItems, SEGMENTS } from '@flagstaff/node-server-sdk';
import { DynamoDBPersistentDataStore } from '@flagstaff/store-dynamodb';
import { Random } from '../lib/random.js';
import { generateContexts, generateFlags } from '../sdk/flags.js';
import type { LocalDynamoDB } from './dynamo.js';

export const FLAG_COUNT = 200;
export const SEGMENT_COUNT = 5;
const SEED = 0x5eed0200;

export const TABLE = 'flagstaff-coldstart';
export const PREFIX = 'bench';

export interface DataSet {
  flags: Flag[];
  segments: Segment[];
  /** Bytes of all items' JSON, as stored in the `item` attributes. */
  jsonBytes: number;
  context: JsonObject;
  /** On, with rules, no prerequisites and no segment clause: evaluating it needs its own item only. */
  firstFlag: Flag;
  /** On, with a rule matching a segment: evaluating it needs the flag, then the segment. */
  segmentFlag: Flag;
}

function segments(random: Random): Segment[] {
  return Array.from({ length: SEGMENT_COUNT }, (_, i) => ({
    key: `segment-${i}`,
    version: 1 + random.below(50),
    included: Array.from({ length: 5 + random.below(40) }, () => `user-${random.below(1000)}`),
    excluded: [`user-${random.below(1000)}`],
    rules: [
      {
        id: `segment-rule-${i}`,
        clauses: [
          {
            contextKind: 'user',
            attribute: i % 2 === 0 ? 'email' : 'country',
            op: i % 2 === 0 ? 'endsWith' : 'in',
            values: i % 2 === 0 ? ['@corp.example.org'] : ['de', 'fr'],
            negate: false,
          },
        ],
      },
    ],
    salt: random.hex(32),
    deleted: false,
  }));
}

export function generateDataSet(): DataSet {
  const random = new Random(SEED);
  const flags = generateFlags(FLAG_COUNT, SEED);
  const segs = segments(random);
  // One flag in ten gets a first rule matching a segment, as targeting a cohort usually looks.
  flags.forEach((flag, i) => {
    if (i % 10 !== 3 || !flag.on) return;
    flag.rules = [
      {
        id: `in-segment-${i}`,
        clauses: [
          {
            attribute: 'segmentMatch',
            op: 'segmentMatch',
            values: [segs[random.below(segs.length)]!.key],
            negate: false,
          },
        ],
        variation: 0,
        trackEvents: false,
      },
      ...(flag.rules ?? []),
    ];
  });
  const usesSegments = (f: Flag) =>
    (f.rules ?? []).some((r) => (r.clauses ?? []).some((c) => c.op === 'segmentMatch'));
  const firstFlag = flags.find(
    (f) => f.on && (f.rules?.length ?? 0) >= 3 && (f.prerequisites?.length ?? 0) === 0 && !usesSegments(f),
  );
  const segmentFlag = flags.find((f) => f.on && (f.prerequisites?.length ?? 0) === 0 && usesSegments(f));
  if (firstFlag === undefined || segmentFlag === undefined)
    throw new Error('the generated flags lack a kind');
  const jsonBytes = [...flags, ...segs].reduce((n, item) => n + Buffer.byteLength(JSON.stringify(item)), 0);
  return { flags, segments: segs, jsonBytes, context: generateContexts(1, SEED)[0]!, firstFlag, segmentFlag };
}

/** Creates the table and fills it with our store's `init`, which is what Relay or a syncer would do. */
export async function writeTable(db: LocalDynamoDB, data: DataSet): Promise<void> {
  await db.createTable(TABLE);
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  const store = new DynamoDBPersistentDataStore(TABLE, {
    prefix: PREFIX,
    clientOptions: db.clientConfig,
    logger: silent,
  });
  const items = (list: { key: string; version: number }[]) =>
    list.map((item) => ({
      key: item.key,
      item: { version: item.version, deleted: false, serializedItem: JSON.stringify(item) },
    }));
  const all: KindItems[] = [
    { kind: SEGMENTS, items: items(data.segments) },
    { kind: FEATURES, items: items(data.flags) },
  ];
  try {
    await store.init(all);
  } finally {
    await store.close();
  }
}
