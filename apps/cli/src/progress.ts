import type { ProgressReporter } from '@medad/core';

function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(sec).padStart(2, '0')}`;
}

/**
 * A progress bar on stderr: redrawn in place on a terminal, one line every `lineEveryMs`
 * otherwise (CI logs), with elapsed time and ETA.
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr, lineEveryMs = 5000): ProgressReporter {
  let total = 0;
  let label = '';
  let started = 0;
  let initial = 0;
  let lastLine = 0;
  const tty = Boolean(stream.isTTY);
  const render = (done: number, info?: Record<string, string | number>): string => {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const elapsed = (Date.now() - started) / 1000;
    const eta = done > initial ? (elapsed / (done - initial)) * (total - done) : NaN;
    const extras = info
      ? Object.entries(info)
          .map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : v}`)
          .join(' | ')
      : '';
    return (
      `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ` +
      `${(frac * 100).toFixed(0)}% ${formatSeconds(elapsed)} ETA ${formatSeconds(eta)}${extras ? ' | ' + extras : ''}`
    );
  };
  return {
    start(n, l, from = 0) {
      total = n;
      label = l;
      initial = from;
      started = Date.now();
      lastLine = 0;
    },
    update(done, info) {
      const now = Date.now();
      if (tty) stream.write(`\r\x1b[2K${render(done, info)}`);
      else if (now - lastLine >= lineEveryMs || done >= total) {
        stream.write(render(done, info) + '\n');
        lastLine = now;
      }
    },
    stop() {
      if (tty) stream.write('\n');
    },
  };
}
