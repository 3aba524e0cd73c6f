/** Prints rows as a left-aligned table with a header, to stdout. */
export function printTable(header: string[], rows: Array<Array<string | number>>, out: NodeJS.WritableStream = process.stdout): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) out.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n');
}
