import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { requireRole } from '../api/auth.js';
import type { ServerContext } from '../context.js';
import { environmentId, flagId } from '../domain/ids.js';
import type { Environment, FlagDefinition } from '../domain/types.js';
import type { CounterRow } from '../storage/types.js';
import { DAY_MS, HOUR_MS } from './aggregate.js';
import { contextTrackerFor } from './contexts.js';

type Granularity = 'hour' | 'day';

const STEP: Record<Granularity, number> = { hour: HOUR_MS, day: DAY_MS };
const DEFAULT_SPAN: Record<Granularity, number> = { hour: DAY_MS, day: 30 * DAY_MS };
/** Bounds the response (and the counter rows read): about 83 days by hour, 5 years by day. */
const MAX_BUCKETS = 2000;
const DEFAULT_CONTEXTS_LIMIT = 50;

interface Range {
  from: number;
  to: number;
  granularity: Granularity;
}

type Params = { p: string; env: string; key?: string };
type Query = Record<string, string | undefined>;

class QueryError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Epoch milliseconds or an ISO 8601 date-time. */
function parseTime(field: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const time = /^\d+$/.test(value)
    ? Number(value)
    : /^\d{4}-\d{2}-\d{2}/.test(value)
      ? Date.parse(value)
      : NaN;
  if (!Number.isSafeInteger(time)) {
    throw new QueryError(field, 'must be epoch milliseconds or an ISO 8601 date-time');
  }
  return time;
}

function parseRange(query: Query, now: number): Range {
  const granularity = query.granularity ?? 'hour';
  if (granularity !== 'hour' && granularity !== 'day') {
    throw new QueryError('granularity', 'must be "hour" or "day"');
  }
  const to = parseTime('to', query.to, now);
  const from = parseTime('from', query.from, to - DEFAULT_SPAN[granularity]);
  if (from >= to) throw new QueryError('from', 'must be before to');
  const step = STEP[granularity];
  if ((to - floorTo(from, step)) / step > MAX_BUCKETS) {
    throw new QueryError('from', `the range is longer than ${MAX_BUCKETS} ${granularity}s`);
  }
  return { from, to, granularity };
}

/** Buckets are aligned to UTC hours and days. */
const floorTo = (time: number, step: number) => Math.floor(time / step) * step;

function parseLimit(value: string | undefined, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const limit = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= max)) throw new QueryError('limit', `must be an integer from 1 to ${max}`);
  return limit;
}

/** Every bucket of the range, empty ones included, so charts need no gap filling. */
function bucketStarts(range: Range): number[] {
  const step = STEP[range.granularity];
  const starts: number[] = [];
  for (let t = floorTo(range.from, step); t < range.to; t += step) starts.push(t);
  return starts;
}

const rangeQuery = (range: Range) => ({
  since: floorTo(range.from, STEP[range.granularity]),
  until: range.to,
});

/**
 * Usage insights from the event counters (admin API, reader role): evaluations per flag and variation,
 * custom event counts, and recently seen contexts.
 */
export function insightsApi(ctx: ServerContext): FastifyPluginAsync {
  const tracker = contextTrackerFor(ctx);

  /** Runs a handler for an existing environment, answering 400 for bad query parameters. */
  const withEnvironment =
    (handler: (env: Environment, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { p, env: envKey } = request.params as Params;
      const env = await ctx.storage.get<Environment>('environments', environmentId(p, envKey));
      if (!env) {
        return reply
          .code(404)
          .send({ code: 'not_found', message: `environment "${envKey}" of project "${p}" does not exist` });
      }
      try {
        return await handler(env.value, request, reply);
      } catch (err) {
        if (!(err instanceof QueryError)) throw err;
        return reply.code(400).send({ code: 'invalid_query', message: err.message, field: err.field });
      }
    };

  return async (app) => {
    const reader = { preHandler: requireRole(ctx, 'reader') };
    const base = '/projects/:p/environments/:env';

    app.get(
      `${base}/insights/flags`,
      reader,
      withEnvironment(async (env, request) => {
        const range = parseRange(request.query as Query, ctx.now());
        const rows = await ctx.storage.queryCounts({
          env: environmentId(env.projectKey, env.key),
          kind: 'eval',
          ...rangeQuery(range),
        });
        const byFlag = new Map<string, Record<string, number>>();
        for (const row of rows) {
          const totals = byFlag.get(row.key) ?? {};
          byFlag.set(row.key, totals);
          totals[row.variation] = (totals[row.variation] ?? 0) + row.count;
        }
        const flags = [...byFlag].map(([key, totals]) => ({ key, totals, total: sum(totals) }));
        flags.sort((a, b) => b.total - a.total || a.key.localeCompare(b.key));
        return { from: range.from, to: range.to, flags };
      }),
    );

    app.get(
      `${base}/insights/flags/:key`,
      reader,
      withEnvironment(async (env, request) => {
        const key = (request.params as Params).key!;
        const range = parseRange(request.query as Query, ctx.now());
        const [rows, definition] = await Promise.all([
          ctx.storage.queryCounts({
            env: environmentId(env.projectKey, env.key),
            kind: 'eval',
            key,
            ...rangeQuery(range),
          }),
          ctx.storage.get<FlagDefinition>('flags', flagId(env.projectKey, key)),
        ]);
        const { series, totals } = bucketByVariation(range, rows);
        return {
          flagKey: key,
          from: range.from,
          to: range.to,
          granularity: range.granularity,
          // Lets a chart label the series; absent for flags SDKs evaluate but Flagstaff does not know.
          variations: definition?.value.variations.map((v, index) => ({
            index,
            value: v.value,
            name: v.name,
          })),
          series,
          totals,
          total: sum(totals),
        };
      }),
    );

    app.get(
      `${base}/insights/events`,
      reader,
      withEnvironment(async (env, request) => {
        const range = parseRange(request.query as Query, ctx.now());
        const rows = await ctx.storage.queryCounts({
          env: environmentId(env.projectKey, env.key),
          kind: 'custom',
          ...rangeQuery(range),
        });
        const totals = new Map<string, number>();
        for (const row of rows) totals.set(row.key, (totals.get(row.key) ?? 0) + row.count);
        const events = [...totals].map(([key, total]) => ({ key, total }));
        events.sort((a, b) => b.total - a.total || a.key.localeCompare(b.key));
        return { from: range.from, to: range.to, events };
      }),
    );

    app.get(
      `${base}/insights/events/:key`,
      reader,
      withEnvironment(async (env, request) => {
        const key = (request.params as Params).key!;
        const range = parseRange(request.query as Query, ctx.now());
        const rows = await ctx.storage.queryCounts({
          env: environmentId(env.projectKey, env.key),
          kind: 'custom',
          key,
          ...rangeQuery(range),
        });
        const step = STEP[range.granularity];
        const counts = new Map<number, number>();
        for (const row of rows) {
          const time = floorTo(row.hour, step);
          counts.set(time, (counts.get(time) ?? 0) + row.count);
        }
        const series = bucketStarts(range).map((time) => ({ time, count: counts.get(time) ?? 0 }));
        return {
          eventKey: key,
          from: range.from,
          to: range.to,
          granularity: range.granularity,
          series,
          total: series.reduce((n, b) => n + b.count, 0),
        };
      }),
    );

    app.get(
      `${base}/contexts`,
      reader,
      withEnvironment(async (env, request) => {
        const query = request.query as Query;
        const limit = parseLimit(query.limit, DEFAULT_CONTEXTS_LIMIT, tracker.maxPerEnvironment);
        if (query.kind !== undefined && query.kind === '') throw new QueryError('kind', 'must not be empty');
        const items = await tracker.list(environmentId(env.projectKey, env.key), limit, query.kind);
        return { items };
      }),
    );
  };
}

function bucketByVariation(range: Range, rows: readonly CounterRow[]) {
  const step = STEP[range.granularity];
  const buckets = new Map<number, Record<string, number>>();
  const totals: Record<string, number> = {};
  for (const row of rows) {
    const time = floorTo(row.hour, step);
    const counts = buckets.get(time) ?? {};
    buckets.set(time, counts);
    counts[row.variation] = (counts[row.variation] ?? 0) + row.count;
    totals[row.variation] = (totals[row.variation] ?? 0) + row.count;
  }
  const series = bucketStarts(range).map((time) => ({ time, counts: buckets.get(time) ?? {} }));
  return { series, totals };
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((n, c) => n + c, 0);
