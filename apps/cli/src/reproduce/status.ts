import type { ExecutorStatus } from './executor.js';

/** `m:ss`, or `h:mm:ss` past an hour; `--:--` when unknown. */
export function clock(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

/** The progress line: jobs done/total, failures, running jobs with their time, elapsed, ETA. */
export function statusLine(s: ExecutorStatus): string {
  const running = s.running.length ? s.running.map((r) => `${r.id} ${clock(r.seconds)}`).join(', ') : 'none';
  return `reproduce ${s.finished}/${s.total} jobs${s.failed ? ` (${s.failed} failed)` : ''} | running: ${running} | elapsed ${clock(s.elapsed)} | ETA ${clock(s.eta)}`;
}

/**
 * Writes the status line to a stream: redrawn in place every second on a terminal, one line
 * every `everyMs` otherwise; `note` prints a line above it (job started/finished).
 */
export class StatusPrinter {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private readonly tty: boolean;

  constructor(
    private readonly get: () => ExecutorStatus,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 30_000,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.tty ? 1000 : Math.min(this.everyMs, 5000));
    this.timer.unref();
    this.tick(true);
  }

  private render(): string {
    const line = statusLine(this.get());
    const width = this.stream.columns;
    return this.tty && width && line.length > width - 1 ? line.slice(0, width - 2) + '…' : line;
  }

  tick(force = false): void {
    const now = Date.now();
    if (this.tty) this.stream.write(`\r\x1b[2K${this.render()}`);
    else if (force || now - this.last >= this.everyMs) {
      this.stream.write(this.render() + '\n');
      this.last = now;
    }
  }

  note(text: string): void {
    if (this.tty) this.stream.write(`\r\x1b[2K${text}\n${this.render()}`);
    else this.stream.write(text + '\n');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.stream.write(`\r\x1b[2K${this.render()}\n`);
  }
}
