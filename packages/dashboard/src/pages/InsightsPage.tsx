import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { BusiestFlags, FlagInsights } from '../api/types.js';
import { Chart, type ChartSeries } from '../components/Chart.js';
import { Field } from '../components/Field.js';
import { shortValue } from '../lib/format.js';
import { navigate, useLocation } from '../router.js';
import { useApp } from '../state.js';

const RANGES = {
  '24h': { label: 'Last 24 hours, by hour', span: 24 * 3600_000, granularity: 'hour' },
  '7d': { label: 'Last 7 days, by hour', span: 7 * 24 * 3600_000, granularity: 'hour' },
  '30d': { label: 'Last 30 days, by day', span: 30 * 24 * 3600_000, granularity: 'day' },
} as const;
type RangeKey = keyof typeof RANGES;

/** The label of a series: the variation's name or value, or the SDK default. */
function seriesLabel(insights: FlagInsights, id: string): string {
  if (id === 'default') return 'SDK default (not found, error or off)';
  const v = insights.variations?.find((x) => String(x.index) === id);
  return v
    ? v.name
      ? `${v.name} (${shortValue(v.value, 24)})`
      : shortValue(v.value, 32)
    : `variation ${id}`;
}

/** Evaluations per variation over time, from the analytics events SDKs send to the service. */
export function InsightsPage() {
  const app = useApp();
  const { query } = useLocation();
  const rangeKey = (query.get('range') as RangeKey | null) ?? '24h';
  const range = RANGES[rangeKey] ?? RANGES['24h'];
  const [busiest, setBusiest] = useState<BusiestFlags>();
  const [insights, setInsights] = useState<FlagInsights>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const flagKey = query.get('flag') ?? busiest?.flags[0]?.key ?? app.flags[0]?.key ?? '';

  const setParam = (name: string, value: string) => {
    const params = new URLSearchParams(window.location.search);
    params.set(name, value);
    navigate(`${window.location.pathname}?${params}`, { replace: true });
  };

  // `to` is the end of the current bucket, so the bucket being filled is included.
  const window_ = useMemo(() => {
    const step = range.granularity === 'hour' ? 3600_000 : 86_400_000;
    const to = Math.floor(Date.now() / step) * step + step;
    return { from: to - range.span, to, granularity: range.granularity };
    // `tick` re-reads with a fresh clock.
  }, [range, tick]);

  const load = useCallback(async () => {
    try {
      setBusiest(await app.client.busiestFlags(app.project.key, app.env.key, window_));
      if (flagKey) setInsights(await app.client.flagInsights(app.project.key, app.env.key, flagKey, window_));
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [app.client, app.project.key, app.env.key, flagKey, window_]);
  useEffect(() => {
    void load();
  }, [load]);
  // Counters grow as SDKs flush their events (every few seconds): re-read once a minute.
  useEffect(() => {
    const timer = window.setInterval(() => setTick((n) => n + 1), 60_000);
    return () => window.clearInterval(timer);
  }, []);

  const ids = useMemo(() => {
    if (!insights) return [];
    const found = new Set<string>((insights.variations ?? []).map((v) => String(v.index)));
    for (const id of Object.keys(insights.totals)) found.add(id);
    return [...found].sort((a, b) => (a === 'default' ? 1 : b === 'default' ? -1 : Number(a) - Number(b)));
  }, [insights]);
  const chart = useMemo(() => {
    if (!insights) return undefined;
    const times = insights.series.map((b) => b.time);
    const series: ChartSeries[] = ids.map((id) => ({
      label: seriesLabel(insights, id),
      values: insights.series.map((b) => b.counts[id] ?? 0),
    }));
    return { times, series };
  }, [insights, ids]);

  const options = useMemo(() => {
    const keys = new Set<string>();
    for (const f of busiest?.flags ?? []) keys.add(f.key);
    for (const f of app.flags) keys.add(f.key);
    return [...keys];
  }, [busiest, app.flags]);

  return (
    <section class="stack">
      <h1>
        Insights in <span class="env-name">{app.env.name}</span>
      </h1>
      <div class="filters">
        <Field label="Flag" class="grow">
          <select value={flagKey} onChange={(e) => setParam('flag', e.currentTarget.value)}>
            {options.map((key) => {
              const total = busiest?.flags.find((f) => f.key === key)?.total ?? 0;
              return (
                <option key={key} value={key}>
                  {key} — {total.toLocaleString()} evaluations
                </option>
              );
            })}
          </select>
        </Field>
        <Field label="Range">
          <select value={rangeKey} onChange={(e) => setParam('range', e.currentTarget.value)}>
            {(Object.keys(RANGES) as RangeKey[]).map((k) => (
              <option key={k} value={k}>
                {RANGES[k].label}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" class="button" onClick={() => setTick((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {error ? (
        <p class="notice" role="alert">
          {error}
        </p>
      ) : null}
      {!flagKey ? <p class="muted">No flags yet.</p> : null}
      {insights && chart ? (
        <>
          <p>
            <strong data-testid="insights-total">{insights.total.toLocaleString()}</strong> evaluations of{' '}
            <code>{insights.flagKey}</code> {range.label.toLowerCase()}.
          </p>
          {insights.total === 0 ? (
            <p class="muted">
              No evaluations recorded yet. SDKs send summaries of their evaluations to the service (their{' '}
              <code>eventsUri</code>) every few seconds.
            </p>
          ) : null}
          <Chart
            times={chart.times}
            series={chart.series}
            title={`Evaluations of ${insights.flagKey} per variation`}
            step={insights.granularity}
          />
          <table class="simple">
            <caption>Totals per variation</caption>
            <thead>
              <tr>
                <th scope="col">Variation</th>
                <th scope="col">Evaluations</th>
              </tr>
            </thead>
            <tbody>
              {ids.map((id) => (
                <tr key={id} data-variation={id}>
                  <td>{seriesLabel(insights, id)}</td>
                  <td>{(insights.totals[id] ?? 0).toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
