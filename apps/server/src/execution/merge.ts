/** An item from one of two merged iterators. */
export type Tagged<A, B> = { from: 'a'; value: A } | { from: 'b'; value: B };

/**
 * Interleaves two async iterators in arrival order; ends when both end, and returning from the
 * merged iterator returns both sources (so their subscriptions are released).
 */
export async function* merge<A, B>(a: AsyncIterator<A>, b: AsyncIterator<B>): AsyncGenerator<Tagged<A, B>> {
  type Next = { side: 'a' | 'b'; r: IteratorResult<A | B> };
  const pull = (side: 'a' | 'b'): Promise<Next> => (side === 'a' ? a.next() : b.next()).then((r) => ({ side, r }));
  const pending = new Map<'a' | 'b', Promise<Next>>([
    ['a', pull('a')],
    ['b', pull('b')],
  ]);
  try {
    while (pending.size) {
      const { side, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(side);
        continue;
      }
      pending.set(side, pull(side));
      yield side === 'a' ? { from: 'a', value: r.value as A } : { from: 'b', value: r.value as B };
    }
  } finally {
    await Promise.all([a.return?.(), b.return?.()]);
  }
}
