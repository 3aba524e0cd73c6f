import { pino, destination } from 'pino';
import { silentLogger, type Logger } from '@medad/core';

/** A pino logger (JSON lines on stderr, so stdout stays for the human-readable banner) behind core's Logger interface. */
export function createLogger(level: 'debug' | 'info' | 'warn' | 'error' | 'silent' = 'info'): Logger {
  if (level === 'silent') return silentLogger;
  const p = pino({ level, base: { service: 'medad-server' } }, destination(2));
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
  };
}
