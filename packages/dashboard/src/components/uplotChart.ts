import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

// Distinguishable colours (also for the common colour-vision deficiencies), in variation order.
const COLORS = ['#0b6bcb', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#7a5195', '#444444'];
const HEIGHT = 280;

export interface PlotInput {
  title: string;
  step: 'hour' | 'day';
  /** Bucket start times, epoch milliseconds. */
  times: number[];
  series: { label: string; values: number[] }[];
}

/**
 * Draws the chart into `el` and keeps it as wide as `el`; returns the function that removes it. This
 * module (and uPlot with it) is its own chunk, loaded only when a chart is shown.
 */
export function drawChart(el: HTMLElement, input: PlotInput): () => void {
  const width = () => Math.max(260, Math.floor(el.clientWidth));
  const plot = new uPlot(
    {
      title: input.title,
      width: width(),
      height: HEIGHT,
      scales: { x: { time: true } },
      series: [
        { label: input.step === 'hour' ? 'Hour' : 'Day' },
        ...input.series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          points: { show: input.times.length < 60 },
        })),
      ],
      axes: [{}, { label: 'Evaluations', size: 60 }],
      legend: { live: true },
    },
    [input.times.map((t) => t / 1000), ...input.series.map((s) => s.values)],
    el,
  );
  const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: HEIGHT }));
  observer.observe(el);
  return () => {
    observer.disconnect();
    plot.destroy();
  };
}
