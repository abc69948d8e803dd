export * from './config';
export * from './params';
export { KVCache } from './kvcache';
export { checkTokenizerFits } from './tokenizer-fit';
export type { TokenizerLike } from './tokenizer-fit';
export { DEFAULT_PAGE_SIZE, KVPool, PoolExhaustedError } from './kvpool';
export type { KVPoolOptions } from './kvpool';
export type { BatchItem, BatchOutput, CachedMask } from './batch';
export { Model, loadModel } from './model';
export type { FullTopology } from './model';
export { TrainGraph } from './graph';
export type { GraphBatch, GraphResult, Objective } from './graph';
export * from './safetensors';
export { saveModel, readConfig, readModelFolder, namedTensors, loadParamsInto, checkFits } from './checkpoint';
export type { SaveOptions, LoadOptions, ModelLike } from './checkpoint';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  CHECKPOINTS_DIR,
  DEFAULT_KEEP,
  LATEST_LINK,
  MANIFEST_FILE,
  commitCheckpointDir,
  latestCheckpoint,
  listRunCheckpoints,
  removeStaleTemporaries,
  saveRunCheckpoint,
  sha256File,
  stepDirName,
  verifyCheckpoint,
  writeManifest,
} from './checkpoint-dir';
export type { CheckpointCheck, CheckpointManifest, ManifestFile } from './checkpoint-dir';
export { writeFileAtomic, setFsFaultHook, SimulatedCrash, isTempName } from './fsutil';
export type { FsStep } from './fsutil';
export { Trainer, writePlot, dataFingerprint, STATE_FILE, OPTIMIZER_FILE } from './trainer';
export type { TrainOptions, TrainProgress, StepResult, TrainerState } from './trainer';
export { lrAt } from './lr';
export type { LrSchedule } from './lr';
export { buildTrainBatch, buildEvalBatch, layoutBatch } from './objectives';
export type { ObjectiveOptions, TrainTopology, BuiltBatch } from './objectives';
export { writeShard, readShard, readShards, SHARD_MAGIC, SHARD_VERSION, SHARD_HEADER_BYTES } from './shards';
export type { Shard } from './shards';
export { WindowSampler } from './windows';
export type { DataCursor } from './windows';
export { linePlotSvg } from './plot-svg';
export type { Series } from './plot-svg';
export { buildDataset, openDataset, collectDocuments, isValidation } from './dataset';
export type { DatasetOptions, DatasetMeta } from './dataset';
