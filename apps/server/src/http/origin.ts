import type { IncomingMessage } from 'node:http';
import { isLoopback } from './auth.js';

/** What a request's Host and Origin are checked against. */
export interface OriginPolicy {
  /** The address the server listens on (`127.0.0.1`, `0.0.0.0`, a name). */
  host: string;
  /** The port it listens on (known after listen). */
  port: () => number;
  /** Extra browser origins allowed to call the API (`MEDAD_ALLOWED_ORIGINS`, full origins like `http://localhost:5173`). */
  allowedOrigins: readonly string[];
  /** True when requests need no token (loopback without tokens): then Host is checked too, against DNS rebinding. */
  authOff: boolean;
}

const hostnameOf = (hostHeader: string): string => {
  try {
    return new URL(`http://${hostHeader}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return '';
  }
};

/**
 * Why a request must be refused, or undefined. A browser page on another origin may not call the
 * API (its `Origin` must be this server's own or listed in `MEDAD_ALLOWED_ORIGINS`; requests
 * without Origin — curl, SDKs, servers — are unaffected). Without tokens the `Host` must also name
 * this machine, so a DNS-rebound name cannot reach a loopback server.
 */
export function originProblem(req: IncomingMessage, p: OriginPolicy): string | undefined {
  const allowedHosts = new Set(p.allowedOrigins.map((o) => hostnameOf(o.replace(/^[a-z]+:\/\//i, ''))));
  if (p.authOff) {
    const name = hostnameOf(req.headers.host ?? '');
    if (!isLoopback(name) && name !== p.host.toLowerCase() && !allowedHosts.has(name)) {
      return `Host "${req.headers.host ?? ''}" is not this server (it listens on ${p.host} without API tokens, so only loopback names are served)`;
    }
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  const own = [p.host, 'localhost', '127.0.0.1', '[::1]'].map((h) => `http://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${p.port()}`);
  if (own.includes(origin.toLowerCase()) || p.allowedOrigins.includes(origin)) return undefined;
  return `Origin "${origin}" may not call this server (a page served elsewhere)`;
}

/** The fix every refusal names. */
export const ORIGIN_FIX = 'open the dashboard at http://127.0.0.1:<port>/, or add the origin to the server\'s MEDAD_ALLOWED_ORIGINS (e.g. MEDAD_ALLOWED_ORIGINS=http://localhost:5173)';
