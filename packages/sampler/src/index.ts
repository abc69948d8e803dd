// @seed-diffusion/sampler: block-parallel semi-autoregressive diffusion decoding with an exact KV
// cache, commit policies (fixed / threshold / factor), self-correction, step events, trajectory
// recording, text streaming and a live terminal view.
export { blockDecoder, checkPrompt, completedEos } from './block-decoder';
export type { DecodeRequest } from './block-decoder';
export { DecodeBatch, decode, decodeEvents, decodeSteps, startDecoder } from './decode';
export type { BatchOutcome, DecodeBatchOptions } from './decode';
export { callRows } from './decoder-step';
export type { Decoder, DecoderContext, ForwardCall, ForwardNeed } from './decoder-step';
export { runForwards } from './forwards';
export type { ForwardResults } from './forwards';
export { confidences, decodeLogitRows } from './decode-rows';
export { DiffusionGenerator } from './generator';
export type { GeneratorCall } from './generator';
export type { RowFilters, RowStats } from './decode-rows';
export type {
  BlockEndEvent,
  BlockStartEvent,
  DecodeEvent,
  DecodeListener,
  DecodeResult,
  DecodeStats,
  DoneEvent,
  PositionChange,
  Rewrite,
  StepEvent,
  StopReason,
} from './events';
export type {
  DecodingBatchItem,
  DecodingCache,
  DecodingModel,
  DecodingModelConfig,
  DecodingPool,
  FullTopology,
} from './model-api';
export { DEFAULT_OPTIONS, resolveOptions, VERIFY_BLOCK } from './options';
export type { ConfidenceKind, DecodeMode, SamplerOptions } from './options';
export {
  CommitPolicy,
  fixedSchedule,
  rankActive,
  selectEdits,
  selectFactor,
  selectThreshold,
  selectTopK,
} from './policies';
export type { PolicyName, PolicyParams } from './policies';
export { TrajectoryRecorder } from './recorder';
export type { BlockTrajectory, TrajectoryJSON, TrajectoryState } from './recorder';
export { Uniforms } from './rng';
export { findStop, generateText, streamText } from './stream';
export type { TextCodec, TextRequest, TextResult } from './stream';
export { MASK_GLYPH, renderBlock, TerminalView, visible } from './terminal-view';
export type { RenderOptions, ViewStream } from './terminal-view';
export {
  contextLookup,
  verifyCacheRows,
  verifyDecoder,
  guessBudget,
  LONG_GUESSES,
  MAX_MATCH,
  type ContextGuess,
} from './verify-decoder';
