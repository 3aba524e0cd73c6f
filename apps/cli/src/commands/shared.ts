import { InvalidArgumentError } from 'commander';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { ErrorCode, MedadError, consoleLogger, discoverPlugins, errorMessage, ipcEventSink, parseTaskWeights, type Logger, type TaskWeights } from '@medad/core';

/** Parses a positive integer flag. */
export function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a non-negative integer.`);
  return n;
}

/** Parses a number flag. */
export function num(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`"${value}" is not a number.`);
  return n;
}

/** Parses `--task-weights anatomy_identification=0.5,...` (a usage error names the task and the fix). */
export function taskWeightsArg(value: string): TaskWeights {
  try {
    return parseTaskWeights(value);
  } catch (err) {
    throw new InvalidArgumentError(errorMessage(err));
  }
}

/** Parses a JSON object flag. */
export function jsonObject(value: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`"${value.slice(0, 60)}" is not JSON (${(err as Error).message}).`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(`"${value.slice(0, 60)}" is not a JSON object.`);
  return v as Record<string, unknown>;
}

/** Parses `1,2,3`. */
export function intList(value: string): number[] {
  return value.split(',').map((v) => int(v.trim()));
}

/** Parses `format=1,accuracy=1,consistency=1` into reward ids and weights. */
export function rewardWeights(value: string): Array<{ id: string; weight: number }> {
  return value.split(',').map((part) => {
    const [id, w] = part.split('=');
    if (!id || w === undefined || !Number.isFinite(Number(w))) {
      throw new InvalidArgumentError(`"${part}" is not id=weight (e.g. format=0.333,accuracy=0.333,consistency=0.333).`);
    }
    return { id: id.trim(), weight: Number(w) };
  });
}

/** The run's logger and IPC sink (events reach the control plane when it started this process). */
export function runIo(quiet = false): { logger: Logger; sink: ReturnType<typeof ipcEventSink> } {
  return { logger: consoleLogger(quiet ? 'warn' : 'info'), sink: ipcEventSink() };
}

/**
 * Parses a `--judge` value: `ID` (config `{}`), `ID:{json}` (that config) or `ID:PATH`, shorthand
 * for `{"checkpoint": PATH}` (e.g. `learned:runs/judge`, the directory `medad train judge` wrote).
 */
export function parseJudgeSpec(spec: string): { id: string; config: Record<string, unknown> } {
  const colon = spec.indexOf(':');
  if (colon < 0) return { id: spec.trim(), config: {} };
  const id = spec.slice(0, colon).trim();
  const rest = spec.slice(colon + 1).trim();
  const fix = 'pass --judge ID, ID:PATH or ID:{json}, e.g. --judge rule or --judge learned:runs/judge';
  if (!id || !rest) throw new MedadError(ErrorCode.BadUserInput, `--judge "${spec}" has an empty id or value`, { fix });
  if (!rest.startsWith('{')) return { id, config: { checkpoint: resolve(rest) } };
  let config: unknown;
  try {
    config = JSON.parse(rest);
  } catch (err) {
    throw new MedadError(ErrorCode.BadUserInput, `--judge "${spec}": the config after the colon is not JSON (${(err as Error).message})`, { fix });
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new MedadError(ErrorCode.BadUserInput, `--judge "${spec}": the config must be a JSON object`, { fix });
  return { id, config: config as Record<string, unknown> };
}

/**
 * Plugins visible from the working directory and from the installation this CLI belongs to,
 * so `medad` finds the bundled plugins wherever it is run.
 */
export function discoverAll(): ReturnType<typeof discoverPlugins> {
  return discoverPlugins({ root: [process.cwd(), fileURLToPath(new URL('../..', import.meta.url))] });
}
