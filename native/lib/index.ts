export { Backend, MASKS, pagedSeqTable } from './backend';
export type {
  AdamWParams,
  AttnShape,
  BackendName,
  DecodeParams,
  HalfType,
  MaskKind,
  PagedSeq,
  RawKernels,
  W16Type,
} from './backend';
export { OpError, checkF32, checkI32, checkInt, checkReal, checkU16 } from './check';
export { CpuBackend } from './cpu';
export type { CpuIsaInfo } from './cpu';
export type { AddonExports, CudaInfo } from './cpu';
export { CUDA_BF16, CUDA_F32, CudaBackend, cudaExports } from './cuda';
export type { CudaExports } from './cuda';
export { availableBackends, backend, cpuFeatures, loadBackend, resetBackend } from './load';
export type { BackendReport } from './load';
export * as reference from './reference';
export { Tensor, dtypeBytes } from './tensor';
export type { DType, HostArray } from './tensor';
export { WasmBackend, wasmPath } from './wasm';
