/**
 * Collects the keys asked for while one GraphQL response is being resolved (until the next
 * macrotask) and loads them with one call, so `runs { edges { node { metricCount } } }` costs one
 * query instead of one per run. Values are not cached: a later `load` starts a new batch.
 */
export class KeyBatcher<V> {
  private pending: Array<{ key: string; resolve: (v: V) => void; reject: (e: unknown) => void }> = [];

  constructor(private readonly loadMany: (keys: readonly string[]) => Promise<Map<string, V>>, private readonly missing: V) {}

  load(key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      if (this.pending.push({ key, resolve, reject }) === 1) setImmediate(() => void this.dispatch());
    });
  }

  private async dispatch(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const values = await this.loadMany([...new Set(batch.map((b) => b.key))]);
      for (const b of batch) b.resolve(values.has(b.key) ? values.get(b.key)! : this.missing);
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}
