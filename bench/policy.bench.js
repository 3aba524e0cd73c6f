// `npm run bench -- policy`: tfjs and ORT training-step throughput, tfjs and ORT generation, against the
// ORT matmul roofline measured in the same run (keys name their units).
import { benchOrt, benchPolicy } from '@medad/policy';

export default async function policy({ log }) {
  log('ORT roofline and ORT generation (small preset, KV cache)...');
  const ort = await benchOrt();
  log('tfjs training step and generation (small preset, batch 16)...');
  const tfjs = await benchPolicy();
  return {
    ...ort,
    ...tfjs,
    train_fraction_of_ort_roofline: tfjs.train_gflops_effective / ort.ort_matmul_gflops,
    // The trainer's default engine: the gradient step through the ONNX Runtime gradient graph.
    // Against the roofline probed before and after every arm (tens of seconds away from the step);
    // tfjs.ort_grad_fraction_interleaved compares each step with a probe run right after it.
    ort_grad_fraction_of_ort_roofline: tfjs.ort_grad_gflops_effective / ort.ort_matmul_gflops,
    ort_grad_speedup_over_tfjs_step: tfjs.train_step_ms / tfjs.ort_grad_step_ms,
    // The most a tfjs step can reach on 2 threads: every FLOP at the plain-matMul peak on each.
    tfjs_two_thread_ceiling_fraction_of_ort_roofline: (2 * tfjs.tfjs_matmul_gflops) / ort.ort_matmul_gflops,
  };
}
