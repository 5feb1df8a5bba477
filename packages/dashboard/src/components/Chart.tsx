import { useEffect, useRef, useState } from 'preact/hooks';
import type { PlotInput } from './uplotChart.js';

export type ChartSeries = PlotInput['series'][number];

/**
 * Evaluations over time, drawn by uPlot (canvas-based, small, fast with thousands of points). uPlot is
 * loaded on first use, so pages without a chart do not pay for it.
 */
export function Chart(props: PlotInput) {
  const ref = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState<string>();
  const { title, step, times, series } = props;
  useEffect(() => {
    let remove: (() => void) | undefined;
    let cancelled = false;
    import('./uplotChart.js').then(
      ({ drawChart }) => {
        if (!cancelled && ref.current) remove = drawChart(ref.current, { title, step, times, series });
      },
      (err: unknown) => setFailed((err as Error).message),
    );
    return () => {
      cancelled = true;
      remove?.();
    };
  }, [title, step, times, series]);
  if (failed) return <p class="field-problems">The chart could not be loaded: {failed}</p>;
  return (
    <div
      ref={ref}
      class="chart"
      role="img"
      aria-label={`${title}. The same numbers are in the table below.`}
    />
  );
}
