/**
 * A uPlot line chart: axes with ticks, a legend that reads the values under the cursor, optional
 * smoothing (the raw series stays as a faint line) and a log y axis. Series are aligned on `steps`;
 * a series without a value at a step has null there and the line spans the gap.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import { smooth } from './model.js';

export const PALETTE = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0f766e', '#a16207', '#be185d', '#4338ca', '#475569'];

export interface ChartProps {
  id: string;
  title: string;
  steps: number[];
  series: Array<{ label: string; values: Array<number | null> }>;
  smoothing: number;
  log: boolean;
  percent?: boolean;
}

function fmt(v: number | null | undefined, percent?: boolean): string {
  if (v == null || !Number.isFinite(v)) return '—';
  if (percent) return `${v.toFixed(1)}%`;
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toPrecision(4).replace(/\.?0+$/, '');
}

/** Axis ticks: short (uPlot picks round values). */
function tick(v: number, percent?: boolean): string {
  if (percent) return `${Number(v.toPrecision(3))}%`;
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

export function Chart({ id, title, steps, series, smoothing, log, percent }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${series.map((s) => s.label).join('|')}:${log}:${smoothing > 0}`;

  const data = (): uPlot.AlignedData => {
    const cols: Array<Array<number | null>> = [];
    const positive = (v: number | null): number | null => (log && v != null && v <= 0 ? null : v);
    for (const s of series) {
      if (smoothing > 0) cols.push(s.values.map(positive));
      cols.push((smoothing > 0 ? smooth(s.values, smoothing) : s.values).map(positive));
    }
    return [steps, ...cols] as uPlot.AlignedData;
  };

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const uSeries: uPlot.Series[] = [{ label: 'step' }];
    series.forEach((s, i) => {
      const stroke = PALETTE[i % PALETTE.length]!;
      if (smoothing > 0) uSeries.push({ label: `${s.label} (raw)`, stroke: `${stroke}40`, width: 1, spanGaps: true, value: (_u, v) => fmt(v, percent), show: true });
      uSeries.push({ label: s.label, stroke, width: 2, spanGaps: true, value: (_u, v) => fmt(v, percent) });
    });
    const width = Math.max(260, el.clientWidth || 600);
    const u = new uPlot(
      {
        width,
        height: 220,
        series: uSeries,
        scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
        axes: [
          { label: 'step', stroke: '#333', grid: { stroke: '#e5e7eb' }, ticks: { stroke: '#d1d5db' } },
          { stroke: '#333', grid: { stroke: '#e5e7eb' }, ticks: { stroke: '#d1d5db' }, size: 72, values: (_u, ticks) => ticks.map((t) => tick(t, percent)) },
        ],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      },
      data(),
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(260, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: 220 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // re-created when the series, the scale or the smoothing switch change; data updates go through setData
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data());
  }, [steps, series, smoothing]);

  const points = steps.length;
  return (
    <figure class="chart" data-series={id} data-points={points} data-last-step={steps.at(-1) ?? ''}>
      <figcaption>
        {title} <span class="muted">({points} {points === 1 ? 'point' : 'points'})</span>
      </figcaption>
      <div ref={box} class="plot" role="img" aria-label={`${title}: ${series.map((s) => `${s.label} ${fmt(s.values.findLast((v) => v != null), percent)}`).join(', ')} at step ${steps.at(-1) ?? '—'}`} />
    </figure>
  );
}

/** Aligns metric rows on step: the union of steps, each key's value or null. */
export function align(rows: ReadonlyArray<{ step: number; values: Record<string, number> }>, keys: readonly string[]): { steps: number[]; cols: Array<Array<number | null>> } {
  const steps = rows.map((r) => r.step);
  return { steps, cols: keys.map((k) => rows.map((r) => (typeof r.values[k] === 'number' ? r.values[k]! : null))) };
}
