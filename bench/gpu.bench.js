// `npm run bench -- gpu`: the policy bench's ORT generation with every session on the CUDA provider
// (`--device cuda`); the matmul roofline stays the CPU's for comparison. Without a CUDA provider it
// says why and writes nothing.
import { benchOrt, cudaProviderAvailable, selectDevice } from '@medad/policy';

export default async function gpu({ log }) {
  const probe = cudaProviderAvailable();
  if (!probe.available) {
    return {
      skipped: `no CUDA provider (${probe.reason}). Fix: on a CUDA 12 machine run ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false`,
    };
  }
  const chosen = selectDevice('cuda');
  log(`device: ${chosen.device} (${chosen.reason}); ORT generation (small preset, KV cache)...`);
  return { device: chosen.device, ...(await benchOrt()) };
}
