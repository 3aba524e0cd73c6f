/** The logging surface plugins and engines use (pino-compatible subset). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** A logger that writes nothing. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A logger that writes `level msg {fields}` lines to stderr, at or above `min`. */
export function consoleLogger(min: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = ['debug', 'info', 'warn', 'error'] as const;
  const at = order.indexOf(min);
  const line =
    (level: (typeof order)[number]) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (order.indexOf(level) < at) return;
      const extra = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
      process.stderr.write(`${level.padEnd(5)} ${msg}${extra}\n`);
    };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
