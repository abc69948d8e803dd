// @seed-diffusion/corruption: the forward processes of Seed Diffusion training (mask and edit),
// BD3-LM block-diffusion batches, the two-stage curriculum, and token-level Levenshtein tools.
// Pure TypeScript; every random choice comes from an explicit, resumable Rng.
export { Rng } from './rng';
export { noiseSchedule, sampleT } from './schedule';
export type { NoiseSchedule, ScheduleName, ScheduleSpec } from './schedule';
export { maskCorrupt } from './mask';
export type { MaskOptions, MaskResult } from './mask';
export { blockDiffusionBatch, blockDiffAllowed } from './block-diffusion';
export type { BlockDiffTopology, BlockDiffusionBatch, BlockDiffusionOptions } from './block-diffusion';
export { TokenSampler } from './token-source';
export { editCorrupt, applyRandomEdits } from './edit';
export type { EditOpMix, EditOptions, EditResult } from './edit';
export { Curriculum } from './curriculum';
export type { CurriculumOptions, CurriculumTerms } from './curriculum';
export { levenshtein, levenshteinReference } from './levenshtein';
export { alignment, alignmentCost, applyAlignment } from './alignment';
export type { EditOp, EditOpKind } from './alignment';
export type { Normalize } from './validate';
