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
 * restored bit-exactly so a resumed run continues the same trajectory.
 */
export class AdamW {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  step = 0;

  constructor(private readonly params: ReadonlyMap<string, tf.Variable>, options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false, `adamw.m.${name}.${uid()}`));
      this.v.set(name, tf.variable(tf.zerosLike(p), false, `adamw.v.${name}.${uid()}`));
    }
  }

  /** Applies one update with learning rate `lr`; `grads` maps parameter names to gradients. */
  apply(grads: ReadonlyMap<string, tf.Tensor> | Record<string, tf.Tensor>, lr: number): void {
    const entries = grads instanceof Map ? [...grads.entries()] : Object.entries(grads);
    this.step++;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, g] of entries) {
        const p = this.params.get(name);
        const m = this.m.get(name);
        const v = this.v.get(name);
        if (!p || !m || !v) throw new Error(`AdamW: gradient for unknown parameter "${name}"`);
        const mNew = m.mul(this.beta1).add(g.mul(1 - this.beta1));
        const vNew = v.mul(this.beta2).add(g.square().mul(1 - this.beta2));
        m.assign(mNew);
        v.assign(vNew);
        const update = mNew.div(bc1).div(vNew.div(bc2).sqrt().add(this.epsilon));
        const decay = p.rank >= 2 && this.weightDecay > 0 ? p.mul(this.weightDecay) : null;
        p.assign(p.sub((decay ? update.add(decay) : update).mul(lr)));
      }
    });
  }

  /** A copy of the state (moments and step count). */
  getState(): AdamWState {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name, t] of this.m) m[name] = t.dataSync() as Float32Array;
    for (const [name, t] of this.v) v[name] = t.dataSync() as Float32Array;
    return { step: this.step, m, v };
  }

  /** Restores a state saved by {@link getState}. */
  setState(state: AdamWState): void {
    this.step = state.step;
    for (const [name, t] of this.m) {
      const data = state.m[name];
      if (data) t.assign(tf.tensor(data, t.shape, 'float32'));
    }
    for (const [name, t] of this.v) {
      const data = state.v[name];
      if (data) t.assign(tf.tensor(data, t.shape, 'float32'));
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

let counter = 0;
function uid(): number {
  return counter++;
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
