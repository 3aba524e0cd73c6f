import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ErrorCode, MedadError, errorMessage } from '@medad/core';

/** Which ORT execution provider to use: `auto` picks CUDA when it can load, else CPU. */
export type OrtExecutionProvider = 'auto' | 'cpu' | 'cuda';

/** Session settings shared by the image encoder and the decoder. */
export interface OrtSessionOptions {
  /** Threads inside one op (default 2, the machine this project targets). */
  intraOpNumThreads?: number;
  executionProvider?: OrtExecutionProvider;
  /**
   * Profile every run into `<prefix>_<date>.json` (ORT's Chrome-trace format: one event per node
   * with its op, kernel time and tensor shapes); the file is written when the session's profiling
   * ends ({@link ort.InferenceSession.endProfiling}).
   */
  profileFilePrefix?: string;
}

/** The provider a session ended up on, and why another was skipped (recorded in run metadata). */
export interface ProviderChoice {
  backend: 'ort-cpu' | 'ort-cuda';
  skipped?: string;
}

const CUDA_LIBRARY: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'libonnxruntime_providers_cuda.so',
  win32: 'onnxruntime_providers_cuda.dll',
};

/**
 * Whether the CUDA provider can load: `listSupportedBackends()` must list it, and unless it is
 * bundled its provider library must sit beside the native binding (ORT downloads it on install
 * only when asked to), otherwise creating a session would fail.
 */
export function cudaProviderAvailable(): { available: boolean; reason: string } {
  const listed = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (!listed) return { available: false, reason: 'onnxruntime-node does not list the cuda backend on this platform' };
  if (listed.bundled) return { available: true, reason: 'cuda is bundled' };
  const lib = CUDA_LIBRARY[process.platform];
  if (!lib) return { available: false, reason: `no CUDA provider build for ${process.platform}` };
  const require = createRequire(import.meta.url);
  const binDir = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  if (existsSync(join(binDir, lib))) return { available: true, reason: `found ${lib}` };
  return {
    available: false,
    reason: `cuda is listed but ${lib} is not installed in ${binDir}`,
  };
}

const CUDA_FIX = 'on a CUDA 12 machine install the provider: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false; or use --device auto or cpu';

/** The device {@link selectDevice} chose for this process (undefined: not chosen; sessions use their own options). */
let processDevice: 'cpu' | 'cuda' | undefined;

/** What {@link selectDevice} chose, and why. */
export interface DeviceChoice {
  device: 'cpu' | 'cuda';
  reason: string;
}

/**
 * Chooses where this process's ONNX Runtime sessions compute — rollouts, gradients, evaluation —
 * from a run's `device`: `cpu`; `cuda`, refused with the install command when the provider is
 * missing; `auto`, CUDA when its provider is installed, else the CPU with the reason. Sessions
 * opened afterwards without an explicit provider use it.
 */
export function selectDevice(wanted: OrtExecutionProvider, probe: () => { available: boolean; reason: string } = cudaProviderAvailable): DeviceChoice {
  if (wanted !== 'auto' && wanted !== 'cpu' && wanted !== 'cuda') {
    throw new MedadError(ErrorCode.BadUserInput, `device must be auto, cpu or cuda, got ${JSON.stringify(wanted)}`, { fix: 'pass --device auto (the default), cpu or cuda' });
  }
  if (wanted === 'cpu') return choose({ device: 'cpu', reason: 'asked for the CPU' });
  const cuda = probe();
  if (cuda.available) return choose({ device: 'cuda', reason: `${wanted === 'auto' ? 'auto: ' : ''}the CUDA provider is installed (${cuda.reason})` });
  if (wanted === 'cuda') throw new MedadError(ErrorCode.Unsupported, `device cuda: the ONNX Runtime CUDA provider is not usable: ${cuda.reason}`, { fix: CUDA_FIX });
  return choose({ device: 'cpu', reason: `auto: no CUDA provider (${cuda.reason})` });
}

function choose(c: DeviceChoice): DeviceChoice {
  processDevice = c.device;
  return c;
}

/** The device chosen by {@link selectDevice}, if any. */
export function selectedDevice(): 'cpu' | 'cuda' | undefined {
  return processDevice;
}

function sessionOptions(provider: 'cpu' | 'cuda', threads: number, profileFilePrefix?: string): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...(profileFilePrefix ? { enableProfiling: true, profileFilePrefix } : {}),
  };
}

async function create(model: string | Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/** Opens ORT sessions for the given models on the chosen provider (CUDA falls back to CPU with a reason). */
export async function openSessions<K extends string>(
  models: Record<K, string | Uint8Array>,
  options: OrtSessionOptions = {},
): Promise<{ sessions: Record<K, ort.InferenceSession>; provider: ProviderChoice }> {
  const threads = options.intraOpNumThreads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new MedadError(ErrorCode.BadUserInput, `intraOpNumThreads must be a positive integer, got ${threads}`, {
      fix: 'set intraOpNumThreads to the number of cores to use (default 2)',
    });
  }
  const wanted = options.executionProvider ?? processDevice ?? 'auto';
  let skipped: string | undefined;
  if (wanted !== 'cpu') {
    const cuda = cudaProviderAvailable();
    if (cuda.available) {
      try {
        return { sessions: await openAll(models, sessionOptions('cuda', threads, options.profileFilePrefix)), provider: { backend: 'ort-cuda' } };
      } catch (err) {
        skipped = `cuda failed to start: ${errorMessage(err)}`;
      }
    } else {
      skipped = cuda.reason;
    }
    if (wanted === 'cuda') {
      throw new MedadError(ErrorCode.Unsupported, `The ORT CUDA execution provider is not usable: ${skipped}`, {
        fix: CUDA_FIX,
      });
    }
  }
  return { sessions: await openAll(models, sessionOptions('cpu', threads, options.profileFilePrefix)), provider: { backend: 'ort-cpu', skipped } };
}

async function openAll<K extends string>(
  models: Record<K, string | Uint8Array>,
  options: ort.InferenceSession.SessionOptions,
): Promise<Record<K, ort.InferenceSession>> {
  const out = {} as Record<K, ort.InferenceSession>;
  for (const key of Object.keys(models) as K[]) {
    const model = models[key];
    try {
      out[key] = await create(model, options);
    } catch (err) {
      for (const s of Object.values<ort.InferenceSession>(out)) await s.release();
      const where = typeof model === 'string' ? model : `the in-memory ${key} model`;
      throw new MedadError(ErrorCode.InvalidData, `onnxruntime could not load ${where}: ${errorMessage(err)}`, {
        cause: err,
        fix: 'check that the file is an ONNX model exported by exportOnnx (opset 17) and is not truncated',
      });
    }
  }
  return out;
}
