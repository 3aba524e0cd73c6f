/** A GraphQL query's finished HTTP response, kept to answer the same request again. */
export interface CachedResponse {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

interface Entry extends CachedResponse {
  generation: number;
  at: number;
}

/**
 * Answers repeated GraphQL *queries* without executing them again — a dashboard polling the run
 * list, many viewers on one run. An entry is served only while both hold:
 *  - no database write of this process has finished since the query started executing
 *    ({@link invalidate} bumps the generation; the store calls it after every write), and
 *  - it is at most `maxAgeMs` old (what other replicas write to a shared PostgreSQL, and what
 *    resolvers read from files, is at most that stale).
 * Keys are the caller's role plus the request's exact text, so a role never sees another role's
 * answer. Mutations, subscriptions, errors and bodies over `maxBodyChars` are never stored; the
 * map keeps at most `maxEntries` and `maxTotalChars`, dropping the oldest. `maxAgeMs` 0 turns
 * the cache off.
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  /** Characters held (keys and bodies). */
  private held = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxAgeMs: number,
    private readonly maxEntries = 512,
    /** Largest body stored, in characters. */
    private readonly maxBodyChars = 2_000_000,
    /** Characters (keys and bodies) held at most: a caller sending many large distinct queries cannot grow the server past it. */
    private readonly maxTotalChars = 32_000_000,
  ) {}

  get enabled(): boolean {
    return this.maxAgeMs > 0;
  }

  /** The generation a query starting now is stamped with. */
  get current(): number {
    return this.generation;
  }

  /** Something the answers depend on changed: every stored answer is stale. */
  invalidate(): void {
    this.generation++;
    if (this.entries.size) this.entries.clear();
    this.held = 0;
  }

  get(key: string, now = Date.now()): CachedResponse | undefined {
    if (!this.enabled) return undefined;
    const e = this.entries.get(key);
    if (e && e.generation === this.generation && now - e.at <= this.maxAgeMs) {
      this.hits++;
      return e;
    }
    if (e) this.drop(key);
    this.misses++;
    return undefined;
  }

  /** Stores an answer computed from the state at `generation` (dropped if a write finished since). */
  set(key: string, generation: number, response: CachedResponse, now = Date.now()): void {
    if (!this.enabled || generation !== this.generation || response.body.length > this.maxBodyChars) return;
    this.drop(key);
    const size = key.length + response.body.length;
    while (this.entries.size && (this.entries.size >= this.maxEntries || this.held + size > this.maxTotalChars)) this.drop(this.entries.keys().next().value!);
    this.entries.set(key, { ...response, generation, at: now });
    this.held += size;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.held -= key.length + e.body.length;
  }

  /** Characters held (keys and bodies). */
  get heldChars(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }
}
