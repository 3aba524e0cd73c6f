import { ErrorCode, MedadError, SeededRng } from '@medad/core';
import { weightShapes, type VlmConfig } from '../vlm/config.js';

/** Named float32 weights as ARCHITECTURE.md lists them (a Map or a plain record). */
export type WeightSource = ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>;

/** A checked weight set: every ARCHITECTURE.md name present with the right element count. */
export type CheckedWeights = ReadonlyMap<string, Float32Array>;

/**
 * Checks that `weights` holds every tensor the config needs with the right size and returns
 * them as a map; `where` names the origin (a directory or "exportOnnx") in errors.
 */
export function checkWeights(cfg: VlmConfig, weights: WeightSource, where = 'weights'): CheckedWeights {
  const get = (name: string): Float32Array | undefined =>
    weights instanceof Map ? weights.get(name) : (weights as Readonly<Record<string, Float32Array>>)[name];
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of weightShapes(cfg)) {
    const w = get(name);
    const size = shape.reduce((a, b) => a * b, 1);
    if (!(w instanceof Float32Array)) {
      throw new MedadError(ErrorCode.InvalidData, `${where}: weight "${name}" [${shape.join(', ')}] is missing or not a Float32Array`, {
        fix: 'pass every weight named in packages/policy/ARCHITECTURE.md as a Float32Array (row-major)',
        details: { weight: name, shape },
      });
    }
    if (w.length !== size) {
      throw new MedadError(ErrorCode.InvalidData, `${where}: weight "${name}" has ${w.length} values but shape [${shape.join(', ')}] needs ${size}`, {
        fix: 'check that config.json matches the weights (vocabSize, dModel, dFF, maxTextLen, imageSize, patchSize)',
        details: { weight: name, shape, got: w.length },
      });
    }
    out.set(name, w);
  }
  return out;
}

/** Random weights for a config (seeded), for tests and benchmarks: matrices ~ N(0, std²), LayerNorm gains ~ 1. */
export function randomWeights(cfg: VlmConfig, seed: number, std = 0.2): Map<string, Float32Array> {
  const rng = new SeededRng(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of weightShapes(cfg)) {
    const w = new Float32Array(shape.reduce((x, y) => x * y, 1));
    const isGain = name.endsWith('.g');
    for (let i = 0; i < w.length; i++) w[i] = (isGain ? 1 : 0) + std * rng.normal();
    out.set(name, w);
  }
  return out;
}
