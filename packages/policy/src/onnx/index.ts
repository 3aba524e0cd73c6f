export { GraphBuilder, ONNX_OPSET, ONNX_IR_VERSION, type AttrValue, type Dim, type ElemType } from './graph-builder.js';
export { checkWeights, randomWeights, type CheckedWeights, type WeightSource } from './weights.js';
export { buildDecoder, buildImageEncoder, MASKED_SCORE } from './graphs.js';
export { buildOnnxModels, exportOnnx, ONNX_FILES, type ExportOnnxOptions, type OnnxExport, type OnnxModels } from './export.js';
export { referenceForward, referenceGreedy } from './reference.js';
export { cudaProviderAvailable, openSessions, type OrtExecutionProvider, type OrtSessionOptions, type ProviderChoice } from './session.js';
export { disposeKv, gatherKvRows, type KvCache } from './kv-cache.js';
export { OrtPolicy, ortGenerationRng, type OrtGenerateOptions } from './ort-policy.js';
export { benchOrt, type OrtBenchOptions, type OrtBenchResult } from './bench.js';
