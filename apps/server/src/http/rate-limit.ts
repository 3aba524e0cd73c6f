import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * A token bucket per caller: `perMinute` requests, refilled continuously, at most `perMinute` in a
 * burst. `take` answers how many seconds to wait when the bucket is empty. 0 per minute disables it.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly maxCallers = 10_000,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one request for `caller`: undefined when allowed, else the whole seconds until one is. */
  take(caller: string): number | undefined {
    if (this.perMinute <= 0) return undefined;
    const t = this.now();
    const b = this.buckets.get(caller) ?? { tokens: this.perMinute, at: t };
    b.tokens = Math.min(this.perMinute, b.tokens + (t - b.at) * this.perMs);
    b.at = t;
    if (!this.buckets.has(caller)) {
      if (this.buckets.size >= this.maxCallers) this.prune(t);
      this.buckets.set(caller, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000));
  }

  /** Forgets callers whose bucket has refilled (they are indistinguishable from new ones). */
  private prune(t: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (t - b.at) * this.perMs >= this.perMinute) this.buckets.delete(k);
  }
}

/** Who a request counts against: its bearer token (hashed) when it has one, else its remote address. */
export function callerKey(authorization: string | undefined, req: IncomingMessage): string {
  return authorization ? `token:${createHash('sha256').update(authorization).digest('hex').slice(0, 16)}` : `ip:${req.socket.remoteAddress ?? 'unknown'}`;
}

/** The message of a refusal. */
export function rateLimitMessage(what: string, perMinute: number, retryAfter: number): string {
  return `Too many ${what}: the limit is ${perMinute} per minute per caller. Fix: retry after ${retryAfter} s (Retry-After), or raise the server's limit`;
}
