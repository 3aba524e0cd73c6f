import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, MedadError, type RngState } from '@medad/core';
import { VlmPolicy, decodeSafetensors, encodeSafetensors, type NamedTensor } from '@medad/policy';
import type { AdamW, AdamWState } from '../optim/adamw.js';

/** Trainer bookkeeping saved with every checkpoint. */
export interface TrainerState {
  kind: 'sft' | 'con-grpo';
  /** Optimisation steps completed. */
  step: number;
  rng: RngState;
  seed: number;
  /** The options the run was started with (a resume must match them). */
  options: Record<string, unknown>;
  savedAt: string;
}

/** Where a run keeps its latest checkpoint. */
export function checkpointDir(runDir: string): string {
  return join(runDir, 'checkpoint');
}

/** The file of a checkpoint that holds the EMA reference's weights (Con-GRPO with a GRPO-CARE reward). */
export const EMA_REFERENCE_FILE = 'ema-reference.safetensors';

/**
 * Writes policy weights, optimizer moments and trainer state to `<runDir>/checkpoint`
 * atomically (a temp directory renamed over the old one), so a kill at any point leaves
 * either the previous or the new checkpoint, never a torn one. `emaReference`, when given, is
 * written beside them (same names and shapes as the policy's weights).
 */
export async function saveTrainingCheckpoint(runDir: string, policy: VlmPolicy, optimizer: AdamW, state: TrainerState, emaReference?: ReadonlyMap<string, Float32Array>): Promise<void> {
  const final = checkpointDir(runDir);
  const tmp = `${final}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await policy.save(tmp);
  const opt = optimizer.getState();
  const tensors = new Map<string, NamedTensor>();
  for (const [name, p] of policy.model.params) {
    tensors.set(`m.${name}`, { shape: p.shape, data: opt.m[name]! });
    tensors.set(`v.${name}`, { shape: p.shape, data: opt.v[name]! });
  }
  writeFileSync(join(tmp, 'optimizer.safetensors'), encodeSafetensors(tensors, { step: String(opt.step) }));
  if (emaReference) {
    const ema = new Map<string, NamedTensor>();
    for (const [name, p] of policy.model.params) ema.set(name, { shape: p.shape, data: emaReference.get(name)! });
    writeFileSync(join(tmp, EMA_REFERENCE_FILE), encodeSafetensors(ema, { step: String(state.step) }));
  }
  writeFileSync(join(tmp, 'trainer-state.json'), JSON.stringify(state, null, 2) + '\n');
  const old = `${final}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

/** The trainer state of a run's checkpoint, or null when the run has none yet. */
export function readTrainerState(runDir: string): TrainerState | null {
  const dir = checkpointDir(runDir);
  // A kill between the two renames leaves only `.old`: it is the last complete checkpoint.
  if (!existsSync(dir) && existsSync(`${dir}.old`)) renameSync(`${dir}.old`, dir);
  const file = join(dir, 'trainer-state.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TrainerState;
  } catch (err) {
    throw new MedadError(ErrorCode.InvalidData, `${file}: not valid JSON (${(err as Error).message})`, {
      fix: 'delete the checkpoint directory to start the run over',
    });
  }
}

/** Optimizer state saved by {@link saveTrainingCheckpoint}. */
export function readOptimizerState(runDir: string): AdamWState {
  const file = join(checkpointDir(runDir), 'optimizer.safetensors');
  const { tensors, metadata } = decodeSafetensors(readFileSync(file), file);
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const [name, t] of tensors) {
    if (name.startsWith('m.')) m[name.slice(2)] = t.data;
    else if (name.startsWith('v.')) v[name.slice(2)] = t.data;
  }
  return { step: Number(metadata.step ?? 0), m, v };
}

/** The EMA reference saved with a run's checkpoint, or null when the checkpoint has none. */
export function readEmaReference(runDir: string): Map<string, Float32Array> | null {
  const file = join(checkpointDir(runDir), EMA_REFERENCE_FILE);
  if (!existsSync(file)) return null;
  const { tensors } = decodeSafetensors(readFileSync(file), file);
  return new Map([...tensors].map(([name, t]) => [name, t.data]));
}
