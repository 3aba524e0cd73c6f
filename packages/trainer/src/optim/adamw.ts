import * as tf from '@tensorflow/tfjs';

/** AdamW hyper-parameters. */
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (applied to matrices only, not to biases, norms or embeddings' 1-D params). */
  weightDecay?: number;
}

/** Optimizer state, as plain arrays for checkpoints. */
export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/**
 * AdamW (decoupled weight decay) over named variables, with state that can be saved and
 * restored bit-exactly so a resumed run continues the same trajectory. The moments live in plain
 * Float32Arrays and each parameter's update is one fused loop (read the weights and the gradient,
 * write the weights back once): ~15 tfjs kernels per parameter cost 12 ms of a 74 ms SFT step.
 */
export class AdamW {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  step = 0;

  constructor(private readonly params: ReadonlyMap<string, tf.Variable>, options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    for (const [name, p] of params) {
      this.m.set(name, new Float32Array(p.size));
      this.v.set(name, new Float32Array(p.size));
    }
  }

  /** Applies one update with learning rate `lr`; `grads` maps parameter names to gradients. */
  apply(grads: ReadonlyMap<string, tf.Tensor> | Record<string, tf.Tensor>, lr: number): void {
    const entries = grads instanceof Map ? [...grads.entries()] : Object.entries(grads);
    this.step++;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const bc1 = 1 - b1 ** this.step;
    const bc2 = 1 - b2 ** this.step;
    for (const [name, g] of entries) {
      const p = this.params.get(name);
      const m = this.m.get(name);
      const v = this.v.get(name);
      if (!p || !m || !v) throw new Error(`AdamW: gradient for unknown parameter "${name}"`);
      const gd = g.dataSync() as Float32Array;
      const w = ownCopy(p.dataSync() as Float32Array);
      const decay = p.rank >= 2 ? this.weightDecay : 0;
      for (let i = 0; i < w.length; i++) {
        const gi = gd[i]!;
        const mi = (m[i] = b1 * m[i]! + (1 - b1) * gi);
        const vi = (v[i] = b2 * v[i]! + (1 - b2) * gi * gi);
        const wi = w[i]!;
        w[i] = wi - lr * (mi / bc1 / (Math.sqrt(vi / bc2) + eps) + decay * wi);
      }
      const next = tf.tensor(w, p.shape, 'float32');
      p.assign(next);
      next.dispose();
    }
  }

  /** A copy of the state (moments and step count). */
  getState(): AdamWState {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name, t] of this.m) m[name] = t.slice();
    for (const [name, t] of this.v) v[name] = t.slice();
    return { step: this.step, m, v };
  }

  /** Restores a state saved by {@link getState}. */
  setState(state: AdamWState): void {
    this.step = state.step;
    for (const [name, t] of this.m) {
      const data = state.m[name];
      if (data) t.set(data);
    }
    for (const [name, t] of this.v) {
      const data = state.v[name];
      if (data) t.set(data);
    }
  }

  /** Nothing to free (kept for callers that dispose optimizers). */
  dispose(): void {
    this.m.clear();
    this.v.clear();
  }
}

/**
 * A weight array the update may overwrite: wasm's dataSync is already a fresh copy of its heap
 * (HEAPU8.slice); other backends (cpu, tfjs-node) may return the tensor's live values.
 */
function ownCopy(data: Float32Array): Float32Array {
  return tf.getBackend() === 'wasm' ? data : Float32Array.from(data);
}

/** Scales gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  const norm = tf.tidy(() => {
    const sq = [...grads.values()].map((g) => g.square().sum());
    return tf.addN(sq).sqrt();
  });
  const n = norm.dataSync()[0]!;
  norm.dispose();
  if (!(maxNorm > 0) || n <= maxNorm || !Number.isFinite(n)) return { grads, norm: n };
  const scale = maxNorm / (n + 1e-6);
  const clipped = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) {
    clipped.set(name, g.mul(scale));
    g.dispose();
  }
  return { grads: clipped, norm: n };
}
