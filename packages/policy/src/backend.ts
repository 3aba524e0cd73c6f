import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ErrorCode, MedadError } from '@medad/core';
import { registerWasmKernels } from './ops/wasm-kernels.js';

/** The compute backends, best first. */
export const COMPUTE_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
/** A compute backend name. */
export type ComputeBackend = (typeof COMPUTE_BACKENDS)[number];

/** Options for {@link selectBackend}. */
export interface SelectBackendOptions {
  /** Force one backend (else env `MEDAD_TF_BACKEND`, else the best that loads). */
  backend?: ComputeBackend | 'auto';
}

/** Which backend is in use and what was tried (recorded in run metadata). */
export interface BackendSelection {
  backend: ComputeBackend;
  /** Backends that were tried and did not load, with the reason. */
  skipped: Array<{ backend: ComputeBackend; reason: string }>;
}

let current: BackendSelection | null = null;

/** The optional native bindings, best first; a string variable keeps tsc from resolving them. */
const NATIVE_MODULES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

async function tryTensorflow(): Promise<string | null> {
  const reasons: string[] = [];
  for (const name of NATIVE_MODULES) {
    try {
      await import(name);
      if (tf.findBackendFactory('tensorflow')) {
        if (await tf.setBackend('tensorflow')) return null;
      }
      reasons.push(`${name} loaded but did not register the "tensorflow" backend`);
    } catch (err) {
      reasons.push(`${name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  return reasons.join('; ');
}

async function trySimple(name: 'wasm' | 'cpu'): Promise<string | null> {
  try {
    if (await tf.setBackend(name)) {
      await tf.ready();
      return null;
    }
    return `tf.setBackend("${name}") returned false`;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0]! : String(err);
  }
}

function parseRequested(value: string | undefined, origin: string): ComputeBackend | 'auto' {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if ((COMPUTE_BACKENDS as readonly string[]).includes(value)) return value as ComputeBackend;
  throw new MedadError(ErrorCode.BadUserInput, `${origin} is "${value}", which is not a compute backend`, {
    fix: `use one of: auto, ${COMPUTE_BACKENDS.join(', ')}`,
  });
}

/**
 * Chooses the tfjs backend by priority (`tensorflow` → `wasm` → `cpu`), overridable by the option
 * or env `MEDAD_TF_BACKEND`; an explicitly requested backend that fails to load is an error.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const requested =
    options.backend !== undefined && options.backend !== 'auto'
      ? parseRequested(options.backend, 'option "backend"')
      : parseRequested(process.env.MEDAD_TF_BACKEND, 'env MEDAD_TF_BACKEND');
  if (current && (requested === 'auto' || requested === current.backend) && tf.getBackend() === current.backend) {
    return current;
  }
  const order: ComputeBackend[] = requested === 'auto' ? [...COMPUTE_BACKENDS] : [requested];
  const skipped: BackendSelection['skipped'] = [];
  for (const backend of order) {
    const reason = backend === 'tensorflow' ? await tryTensorflow() : await trySimple(backend);
    if (reason === null) {
      if (backend === 'wasm') registerWasmKernels();
      current = { backend, skipped };
      return current;
    }
    skipped.push({ backend, reason });
  }
  throw new MedadError(
    ErrorCode.Unsupported,
    `No tfjs backend could be loaded (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`,
    {
      fix:
        requested === 'auto'
          ? 'reinstall @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm'
          : `install the package for "${requested}" or set MEDAD_TF_BACKEND=auto`,
    },
  );
}

/** The backend in use, or null before {@link selectBackend} ran. */
export function currentBackend(): ComputeBackend | null {
  const name = tf.getBackend();
  return (COMPUTE_BACKENDS as readonly string[]).includes(name) ? (name as ComputeBackend) : null;
}
