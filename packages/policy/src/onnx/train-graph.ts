import { ErrorCode, MedadError } from '@medad/core';
import { headDim, imageTokens, weightShapes, type VlmConfig } from '../vlm/config.js';
import { Tape } from './autodiff.js';
import { GraphBuilder } from './graph-builder.js';
import { Layers } from '../vlm/layers.js';

/** Weights whose gradient the graph does not produce: the text embeddings are looked up (and their gradients scattered) by the caller. */
export const EMBEDDING_WEIGHTS: ReadonlySet<string> = new Set(['tok_emb', 'txt_pos', 'opt_emb']);

/** Why a config cannot train through the ONNX gradient graph (null = it can). */
export function gradientGraphUnsupported(cfg: VlmConfig): string | null {
  if (cfg.rotaryDims) return 'rotary positions (rotaryDims) are not in the ONNX gradient graph';
  return null;
}

/**
 * The training graph of a policy (ARCHITECTURE.md's forward, then its reverse-mode gradient):
 * inputs are every weight (graph inputs, so one session serves every step), `patches`
 * `[B, P, 3p²]`, the text embeddings `text_embedded` `[B·T, d]` (token + position + option
 * features, looked up by the caller), the attention `bias` `[B, 1, T, P + T]`, the rows of the
 * text grid that predict a target `rows` `[R]`, their `targets` `[R]` and loss coefficients
 * `coef` `[R]`. Outputs: `logp` `[R]` (log-probability of each target) and `grad.<weight>` /
 * `grad.text_embedded`, the gradients of `Σ coef · logp`. With a grounding head the objective adds
 * `Σ_b ground_coef[b] · Σ_p BCE(ground_logit[b, p], ground_target[b, p])` (inputs `ground_target`
 * `[B, P]`, `ground_coef` `[B]`; output `ground_logit` `[B, P]`). `forwardOnly`: the same forward
 * with only `logp` (no `coef` input, no gradients), for objectives whose coefficients need it first.
 */
export function buildGradientGraph(cfg: VlmConfig, options: { forwardOnly?: boolean } = {}): Uint8Array {
  const why = gradientGraphUnsupported(cfg);
  if (why) throw new MedadError(ErrorCode.InvalidConfig, `Cannot build the ONNX gradient graph: ${why}`, { fix: 'train with the tfjs gradient engine (--grad-engine tfjs)' });
  const g = new GraphBuilder('medad_gradients');
  const t = new Tape(g);
  const { dModel: d, nHeads: H, nLayers, vocabSize: V, patchSize: p } = cfg;
  const P = imageTokens(cfg);
  const dh = headDim(cfg);
  const shapes = weightShapes(cfg);
  const w = new Map<string, string>();
  for (const [name, shape] of shapes) {
    const input = g.input(name, 'float', shape);
    w.set(name, EMBEDDING_WEIGHTS.has(name) ? input : t.watch(input));
  }
  const W = (name: string): string => w.get(name)!;
  const L = new Layers(t, cfg, W);
  const patches = g.input('patches', 'float', ['batch_size', P, 3 * p * p]);
  const embedded = t.watch(g.input('text_embedded', 'float', ['text_tokens', d]));
  const bias = g.input('bias', 'float', ['batch_size', 1, 'sequence_length', 'key_length']);
  const rows = g.input('rows', 'int64', ['targets']);
  const targets = g.input('targets', 'int64', ['targets']);

  // Image tokens → per-layer keys/values (the prefix every text token attends to).
  const image = L.imageTower(patches);
  // The last layer's image outputs reach no text token; the grounding head reads its input.
  const groundLogits = cfg.groundingHead && !options.forwardOnly ? L.linear(image.lastInput, 'ground.w', 'ground.b', d, 1) : null;

  // Text tokens [B·T, d] attending to [image ; causal text].
  const bt = g.op('Gather', [g.op('Shape', [bias]), g.int64([0, 2])], { axis: { int: 0 } });
  const textShape5 = g.op('Concat', [bt, g.int64([3, H, dh])], { axis: { int: 0 } });
  let h = embedded;
  for (let i = 0; i < nLayers; i++) {
    const { k: imageK, v: imageV } = image.kv[i]!;
    h = L.block(h, i, textShape5, ({ q, k, v }) => L.attention(q, t.concat([imageK, k], 2, [P, null]), t.concat([imageV, v], 2, [P, null]), bias));
  }
  const logits = t.matmul(t.gatherRows(L.layerNorm(h, 'ln_f'), rows), W('lm_head.w'));

  // log p(target) and the seed d(Σ coef·logp)/dlogits = coef · (onehot − softmax).
  const logSoftmax = g.op('LogSoftmax', [logits], { axis: { int: -1 } });
  g.op('Reshape', [g.op('GatherElements', [logSoftmax, g.op('Unsqueeze', [targets, g.int64([1])])], { axis: { int: 1 } }), g.int64([-1])], {}, 'logp');
  g.output('logp', 'float', ['targets']);
  if (options.forwardOnly) return g.toBytes('MedAD policy target log-probs (packages/policy/ARCHITECTURE.md forward)');
  const coef = g.input('coef', 'float', ['targets']);
  const oneHot = g.op('OneHot', [targets, g.int64([V], true), g.op('Cast', [g.int64([0, 1])], { to: { int: 1 } })], { axis: { int: -1 } });
  const seed = g.op('Mul', [g.op('Unsqueeze', [coef, g.int64([1])]), g.op('Sub', [oneHot, g.op('Exp', [logSoftmax])])]);
  const seeds = new Map([[logits, seed]]);
  if (groundLogits) {
    // Grounding (ARCHITECTURE.md step 8): Σ_b ground_coef[b] · Σ_p BCE(z, ground_target), whose
    // derivative at z is ground_coef · (σ(z) − target).
    const groundTarget = g.input('ground_target', 'float', ['batch_size', P]);
    const groundCoef = g.input('ground_coef', 'float', ['batch_size']);
    g.op('Reshape', [groundLogits, g.int64([-1, P])], {}, 'ground_logit');
    g.output('ground_logit', 'float', ['batch_size', P]);
    const residual = g.op('Sub', [g.op('Sigmoid', ['ground_logit']), groundTarget]);
    seeds.set(groundLogits, g.op('Reshape', [g.op('Mul', [g.op('Unsqueeze', [groundCoef, g.int64([1])]), residual]), g.int64([-1, 1])]));
  }
  const grads = t.backward(seeds);

  for (const [name, shape] of shapes) {
    if (EMBEDDING_WEIGHTS.has(name)) continue;
    const grad = grads.get(W(name));
    if (!grad) throw new MedadError(ErrorCode.Internal, `No gradient reaches weight "${name}" in the ONNX gradient graph`, { fix: 'report this: every weight of the model affects the loss' });
    g.op('Identity', [grad], {}, `grad.${name}`);
    g.output(`grad.${name}`, 'float', shape);
  }
  g.op('Identity', [grads.get(embedded)!], {}, 'grad.text_embedded');
  g.output('grad.text_embedded', 'float', ['text_tokens', d]);
  return g.toBytes('MedAD policy gradients (packages/policy/ARCHITECTURE.md forward, reverse mode)');
}
