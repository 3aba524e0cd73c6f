import { ErrorCode, MedadError } from '@medad/core';
import type { OptionMarkers } from './option-match.js';

/** The model's hyper-parameters (ARCHITECTURE.md), saved as `config.json` beside the weights. */
export interface VlmConfig {
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  dFF: number;
  imageSize: number;
  patchSize: number;
  channels: 3;
  maxTextLen: number;
  activation: 'gelu' | 'relu';
  posInitStd: number;
  /**
   * Rotary position embedding (RoPE) on text queries and keys: the first `rotaryDims` columns of
   * every head are rotated by the text position (ARCHITECTURE.md); image keys are not rotated.
   * Even, at most `dModel / nHeads`; 0 or absent = none (learned absolute positions only).
   */
  rotaryDims?: number;
  /**
   * Exact-match option features (ARCHITECTURE.md): every text token's embedding also gets
   * `opt_emb[L]` for each option L whose words contain that token, so naming an option's text makes
   * its letter a one-step copy. Holds the tokenizer's marker ids; absent = off.
   */
  optionMatch?: OptionMarkers;
  /**
   * Nonlinear patch stem (ARCHITECTURE.md §1a): each patch's four (p/2)×(p/2) quarters go through a
   * shared `3(p/2)² → patchStem` layer and ReLU, and the concatenated quarter features through
   * `4·patchStem → dModel`, added to the linear patch embedding. Local detectors at half the patch
   * size; absent or 0 = linear patches only.
   */
  patchStem?: number;
  /**
   * Grounding head (ARCHITECTURE.md §1b): a linear `dModel → 1` read of each image token as the last
   * layer sees it, trained (SFT `--grounding`) to predict which patches a sample's lesion box covers.
   * A training signal that forms lesion features in the image tokens; generation does not use it.
   * Absent or false = no head.
   */
  groundingHead?: boolean;
  normEps: number;
}

/** Preset names. */
export const VLM_PRESETS = ['tiny', 'small', 'base'] as const;
/** A preset name: `tiny` for tests, `small` for 2 CPU cores, `base` for a GPU. */
export type VlmPreset = (typeof VLM_PRESETS)[number];

const PRESETS: Readonly<Record<VlmPreset, Omit<VlmConfig, 'vocabSize'>>> = Object.freeze({
  tiny: { dModel: 32, nLayers: 2, nHeads: 2, dFF: 64, imageSize: 24, patchSize: 8, channels: 3, maxTextLen: 128, activation: 'gelu', posInitStd: 0.3, normEps: 1e-5 },
  small: { dModel: 96, nLayers: 3, nHeads: 4, dFF: 384, imageSize: 48, patchSize: 8, channels: 3, maxTextLen: 160, activation: 'gelu', posInitStd: 0.3, patchStem: 64, normEps: 1e-5 },
  base: { dModel: 384, nLayers: 8, nHeads: 8, dFF: 1536, imageSize: 96, patchSize: 8, channels: 3, maxTextLen: 256, activation: 'gelu', posInitStd: 0.3, normEps: 1e-5 },
});

/** The config of a preset for a tokenizer of `vocabSize` entries, with optional overrides. */
export function presetConfig(preset: VlmPreset, vocabSize: number, overrides: Partial<VlmConfig> = {}): VlmConfig {
  const base = PRESETS[preset];
  if (!base) {
    throw new MedadError(ErrorCode.BadUserInput, `Unknown model preset "${String(preset)}"`, {
      fix: `use one of: ${VLM_PRESETS.join(', ')}`,
    });
  }
  return validateConfig({ ...base, vocabSize, ...overrides }, `preset "${preset}"`);
}

/** Grid side (`imageSize / patchSize`). */
export function gridSize(cfg: VlmConfig): number {
  return cfg.imageSize / cfg.patchSize;
}

/** Number of image tokens P = gridSize². */
export function imageTokens(cfg: VlmConfig): number {
  return gridSize(cfg) ** 2;
}

/** Per-head width. */
export function headDim(cfg: VlmConfig): number {
  return cfg.dModel / cfg.nHeads;
}

function positiveInt(cfg: Record<string, unknown>, field: string, where: string): void {
  const v = cfg[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new MedadError(ErrorCode.InvalidConfig, `${where}: field "${field}" must be a positive integer, got ${JSON.stringify(v)}`, {
      fix: `set "${field}" to a positive integer`,
    });
  }
}

/** Checks a config read from JSON or built in code; `where` names its origin (file path or preset). */
export function validateConfig(raw: unknown, where: string): VlmConfig {
  if (typeof raw !== 'object' || raw === null) {
    throw new MedadError(ErrorCode.InvalidConfig, `${where}: the model config is not an object`, { fix: 'write config.json as a JSON object' });
  }
  const cfg = raw as Record<string, unknown>;
  for (const f of ['vocabSize', 'dModel', 'nLayers', 'nHeads', 'dFF', 'imageSize', 'patchSize', 'maxTextLen']) positiveInt(cfg, f, where);
  const c = cfg as unknown as VlmConfig;
  if (c.dModel % c.nHeads !== 0) {
    throw new MedadError(ErrorCode.InvalidConfig, `${where}: dModel ${c.dModel} is not divisible by nHeads ${c.nHeads}`, {
      fix: 'choose nHeads that divides dModel',
    });
  }
  if (c.imageSize % c.patchSize !== 0) {
    throw new MedadError(ErrorCode.InvalidConfig, `${where}: imageSize ${c.imageSize} is not divisible by patchSize ${c.patchSize}`, {
      fix: 'choose patchSize that divides imageSize',
    });
  }
  if (c.channels !== 3) {
    throw new MedadError(ErrorCode.InvalidConfig, `${where}: field "channels" must be 3, got ${JSON.stringify(c.channels)}`, {
      fix: 'set "channels": 3 (grayscale images are replicated to RGB)',
    });
  }
  if (c.activation !== 'gelu' && c.activation !== 'relu') {
    throw new MedadError(ErrorCode.InvalidConfig, `${where}: field "activation" is ${JSON.stringify(c.activation)}`, {
      fix: 'use "gelu" or "relu"',
    });
  }
  for (const f of ['posInitStd', 'normEps'] as const) {
    if (typeof c[f] !== 'number' || !(c[f] > 0)) {
      throw new MedadError(ErrorCode.InvalidConfig, `${where}: field "${f}" must be a positive number, got ${JSON.stringify(c[f])}`, {
        fix: `set "${f}" (defaults: posInitStd 0.3, normEps 1e-5)`,
      });
    }
  }
  if (c.rotaryDims !== undefined && (!Number.isInteger(c.rotaryDims) || c.rotaryDims < 0 || c.rotaryDims % 2 !== 0 || c.rotaryDims > c.dModel / c.nHeads)) {
    throw new MedadError(ErrorCode.InvalidConfig, `${where}: field "rotaryDims" must be an even integer from 0 to dModel/nHeads = ${c.dModel / c.nHeads}, got ${JSON.stringify(c.rotaryDims)}`, {
      fix: 'set "rotaryDims" to an even number of rotated columns per head (or 0 / omit it)',
    });
  }
  if (c.patchStem !== undefined && (!Number.isInteger(c.patchStem) || c.patchStem < 0 || (c.patchStem > 0 && c.patchSize % 2 !== 0))) {
    throw new MedadError(ErrorCode.InvalidConfig, `${where}: field "patchStem" must be a non-negative integer (channels of the quarter-patch layer) with an even patchSize, got ${JSON.stringify(c.patchStem)} with patchSize ${c.patchSize}`, {
      fix: 'set "patchStem" to e.g. 64 with an even patchSize, or 0 / omit it for linear patches',
    });
  }
  if (c.groundingHead !== undefined && typeof c.groundingHead !== 'boolean') {
    throw new MedadError(ErrorCode.InvalidConfig, `${where}: field "groundingHead" must be true or false, got ${JSON.stringify(c.groundingHead)}`, {
      fix: 'set "groundingHead": true for a lesion grounding head, or remove the field',
    });
  }
  if (c.optionMatch !== undefined) {
    const m = c.optionMatch as unknown as Record<string, unknown>;
    const id = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) < c.vocabSize;
    if (typeof m !== 'object' || m === null || !id(m.open) || !id(m.close) || !id(m.end) || !Array.isArray(m.letters) || m.letters.length !== 4 || !m.letters.every(id)) {
      throw new MedadError(ErrorCode.InvalidConfig, `${where}: field "optionMatch" must be { open, close, end, letters: [4 ids] } with token ids below vocabSize ${c.vocabSize}, got ${JSON.stringify(c.optionMatch)}`, {
        fix: 'let VlmPolicy.create({ optionMatch: true }) fill it from the tokenizer, or remove the field',
      });
    }
  }
  return {
    vocabSize: c.vocabSize, dModel: c.dModel, nLayers: c.nLayers, nHeads: c.nHeads, dFF: c.dFF,
    imageSize: c.imageSize, patchSize: c.patchSize, channels: 3, maxTextLen: c.maxTextLen,
    activation: c.activation, posInitStd: c.posInitStd, ...(c.rotaryDims ? { rotaryDims: c.rotaryDims } : {}),
    ...(c.patchStem ? { patchStem: c.patchStem } : {}),
    ...(c.groundingHead ? { groundingHead: true } : {}),
    ...(c.optionMatch ? { optionMatch: { open: c.optionMatch.open, close: c.optionMatch.close, end: c.optionMatch.end, letters: [...c.optionMatch.letters] as OptionMarkers['letters'] } } : {}),
    normEps: c.normEps,
  };
}

/** The weight names and shapes of ARCHITECTURE.md, in a fixed order. */
export function weightShapes(cfg: VlmConfig): Array<[string, number[]]> {
  const d = cfg.dModel;
  const g = gridSize(cfg);
  const out: Array<[string, number[]]> = [
    ['patch.w', [3 * cfg.patchSize * cfg.patchSize, d]],
    ['patch.b', [d]],
    ['img_pos.row', [g, d]],
    ['img_pos.col', [g, d]],
    ['tok_emb', [cfg.vocabSize, d]],
    ['txt_pos', [cfg.maxTextLen, d]],
  ];
  if (cfg.optionMatch) out.push(['opt_emb', [4, d]]);
  if (cfg.patchStem) {
    const h = cfg.patchSize / 2;
    out.push(['stem.w1', [3 * h * h, cfg.patchStem]], ['stem.b1', [cfg.patchStem]], ['stem.w2', [4 * cfg.patchStem, d]]);
  }
  for (let i = 0; i < cfg.nLayers; i++) {
    const p = `layers.${i}`;
    out.push([`${p}.ln1.g`, [d]], [`${p}.ln1.b`, [d]]);
    for (const m of ['q', 'k', 'v', 'o']) out.push([`${p}.attn.w${m}`, [d, d]], [`${p}.attn.b${m}`, [d]]);
    out.push([`${p}.ln2.g`, [d]], [`${p}.ln2.b`, [d]]);
    out.push([`${p}.mlp.w1`, [d, cfg.dFF]], [`${p}.mlp.b1`, [cfg.dFF]], [`${p}.mlp.w2`, [cfg.dFF, d]], [`${p}.mlp.b2`, [d]]);
  }
  out.push(['ln_f.g', [d]], ['ln_f.b', [d]], ['lm_head.w', [d, cfg.vocabSize]]);
  if (cfg.groundingHead) out.push(['ground.w', [d, 1]], ['ground.b', [1]]);
  return out;
}
