import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isMedadError } from '@medad/core';
import { OrtGradients } from './ort-grad.js';
import { cudaProviderAvailable, selectDevice, selectedDevice } from './session.js';
import { presetConfig } from '../vlm/config.js';

test('--device: cpu is the CPU; auto falls back to the CPU with the reason; cuda without its provider is refused with the install command', async () => {
  const probe = cudaProviderAvailable();
  assert.deepEqual(selectDevice('cpu'), { device: 'cpu', reason: 'asked for the CPU' });
  assert.equal(selectedDevice(), 'cpu');
  if (probe.available) {
    assert.equal(selectDevice('auto').device, 'cuda');
  } else {
    const auto = selectDevice('auto');
    assert.equal(auto.device, 'cpu');
    assert.equal(auto.reason, `auto: no CUDA provider (${probe.reason})`);
    assert.throws(
      () => selectDevice('cuda'),
      (err: unknown) =>
        isMedadError(err) &&
        err.code === ErrorCode.Unsupported &&
        err.message.startsWith(`device cuda: the ONNX Runtime CUDA provider is not usable: ${probe.reason}`) &&
        /ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false/.test(err.message),
    );
    assert.equal(selectedDevice(), 'cpu', 'a refused choice leaves the previous one');
  }
  // The choice reaches sessions opened without an explicit provider (gradients here).
  const grads = await OrtGradients.create(presetConfig('tiny', 60), { intraOpNumThreads: 1 });
  assert.equal(grads.provider.backend, probe.available ? 'ort-cuda' : 'ort-cpu');
  await grads.release();
  assert.throws(() => selectDevice('gpu' as 'cuda'), /device must be auto, cpu or cuda, got "gpu"/);
});

test('auto picks CUDA when the provider is there, and says so', () => {
  try {
    assert.deepEqual(selectDevice('auto', () => ({ available: true, reason: 'found libonnxruntime_providers_cuda.so' })), {
      device: 'cuda',
      reason: 'auto: the CUDA provider is installed (found libonnxruntime_providers_cuda.so)',
    });
    assert.equal(selectedDevice(), 'cuda');
  } finally {
    selectDevice('cpu');
  }
});
