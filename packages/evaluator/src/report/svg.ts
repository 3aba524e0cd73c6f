/** A named series of (x, y) points for a line chart. */
export interface Series {
  name: string;
  points: Array<[number, number]>;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = 10 ** Math.floor(Math.log10((hi - lo) / n));
  const mult = [1, 2, 5, 10].find((m) => (hi - lo) / (step * m) <= n) ?? 10;
  const s = step * mult;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / s) * s; v <= hi + 1e-9; v += s) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** A line chart as an inline SVG string (no dependencies), with axes, ticks and a legend. */
export function lineChart(series: readonly Series[], o: { title: string; width?: number; height?: number; xLabel?: string; yLabel?: string }): string {
  const W = o.width ?? 520;
  const H = o.height ?? 260;
  const m = { l: 52, r: 12, t: 28, b: 40 };
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (!pts.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="10" y="20">${esc(o.title)}: no data</text></svg>`;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) === Math.min(...xs) ? Math.min(...xs) + 1 : Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (x: number): number => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number): number => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(o.title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
  ];
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l - 3}" y1="${sy(t)}" x2="${W - m.r}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 5}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const t of niceTicks(x0, x1)) parts.push(`<text x="${sx(t)}" y="${H - m.b + 14}" text-anchor="middle">${t}</text>`);
  if (o.xLabel) parts.push(`<text x="${(W + m.l) / 2}" y="${H - 6}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text x="12" y="${(H - m.b + m.t) / 2}" transform="rotate(-90 12 ${(H - m.b + m.t) / 2})" text-anchor="middle">${esc(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const d = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join('');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    parts.push(`<rect x="${m.l + 8 + i * 110}" y="${m.t + 2}" width="10" height="3" fill="${color}"/>`);
    parts.push(`<text x="${m.l + 22 + i * 110}" y="${m.t + 7}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Grouped vertical bars: one group per category, one bar per series (values in percent). */
export function barChart(categories: readonly string[], series: ReadonlyArray<{ name: string; values: number[] }>, o: { title: string; width?: number; height?: number; max?: number }): string {
  const W = o.width ?? 640;
  const H = o.height ?? 280;
  const m = { l: 40, r: 10, t: 40, b: 40 };
  const max = o.max ?? 100;
  const gw = (W - m.l - m.r) / Math.max(1, categories.length);
  const bw = (gw * 0.8) / Math.max(1, series.length);
  const sy = (v: number): number => H - m.b - (Math.max(0, Math.min(max, v)) / max) * (H - m.t - m.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(o.title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
  ];
  for (const t of niceTicks(0, max)) parts.push(`<text x="${m.l - 4}" y="${sy(t) + 4}" text-anchor="end">${t}</text><line x1="${m.l}" y1="${sy(t)}" x2="${W - m.r}" y2="${sy(t)}" stroke="#eee"/>`);
  categories.forEach((c, ci) => {
    parts.push(`<text x="${m.l + ci * gw + gw / 2}" y="${H - m.b + 14}" text-anchor="middle">${esc(c)}</text>`);
    series.forEach((s, si) => {
      const v = s.values[ci] ?? NaN;
      if (!Number.isFinite(v)) return;
      const x = m.l + ci * gw + gw * 0.1 + si * bw;
      parts.push(`<rect x="${x.toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(H - m.b - sy(v)).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(s.name)}: ${v.toFixed(1)}</title></rect>`);
    });
  });
  series.forEach((s, i) => parts.push(`<rect x="${m.l + 8 + i * 120}" y="24" width="10" height="8" fill="${PALETTE[i % PALETTE.length]}"/><text x="${m.l + 22 + i * 120}" y="32">${esc(s.name)}</text>`));
  parts.push('</svg>');
  return parts.join('');
}

/** A confusion matrix (rows = answer key, columns = prediction, last column = no answer) as an SVG heat map. */
export function confusionMatrix(labels: readonly string[], counts: readonly (readonly number[])[], title: string): string {
  const cell = 34;
  const m = { l: 40, t: 40 };
  const cols = counts[0]?.length ?? 0;
  const W = m.l + cols * cell + 10;
  const H = m.t + counts.length * cell + 10;
  const max = Math.max(1, ...counts.flat());
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${m.l}" y="14" font-size="12">${esc(title)}</text>`,
  ];
  const colLabels = [...labels, '∅'].slice(0, cols);
  colLabels.forEach((l, j) => parts.push(`<text x="${m.l + j * cell + cell / 2}" y="${m.t - 6}" text-anchor="middle">${esc(l)}</text>`));
  counts.forEach((row, i) => {
    parts.push(`<text x="${m.l - 6}" y="${m.t + i * cell + cell / 2 + 4}" text-anchor="end">${esc(labels[i] ?? '')}</text>`);
    row.forEach((v, j) => {
      const a = v / max;
      parts.push(`<rect x="${m.l + j * cell}" y="${m.t + i * cell}" width="${cell - 1}" height="${cell - 1}" fill="rgba(31,119,180,${a.toFixed(3)})"/>`);
      parts.push(`<text x="${m.l + j * cell + cell / 2}" y="${m.t + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${a > 0.6 ? '#fff' : '#000'}">${v}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}
