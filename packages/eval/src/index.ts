// @seed-diffusion/eval: execution-based evaluation of code models.
export * from './types';
export { parseBenchmark, readBenchmark } from './benchmark';
export { passAtK, meanPassAtK } from './pass-at-k';
export {
  DEFAULT_LIMITS,
  SANDBOX_UID_BASE,
  sandboxUid,
  probeSandbox,
  processesOfUid,
  hiddenPaths,
  runProgram,
  withEpilogue,
  type Interpreter,
  type Program,
  type Runtime,
  type RunResult,
  type RunStatus,
  type SandboxCapabilities,
  type SandboxLimits,
} from './sandbox';
export { failureReason, type FailureKind, type FailureReason } from './outcome';
export { JS_ASSERT_PRELUDE, completionProgram, programFor, transpileTypeScript } from './program';
export {
  TableGenerator,
  referenceGenerator,
  wrongCompletion,
  wrongGenerator,
  type GenerateOptions,
  type Generation,
  type Generator,
} from './generator';
export {
  scoreSamples,
  type SampleItem,
  type SampleResult,
  type ScoreOptions,
  type ScoreReport,
  type Throughput,
} from './runner';
export { runPassAtK } from './pass-at-k-runner';
export { lexPython, type Token } from './python-lexer';
export { BUG_KINDS, PLANT_RULES, applyBug, bugCandidates, type BugCandidate, type BugKind } from './bug-candidates';
export {
  EDIT_INSTRUCTION,
  editPrompt,
  editTasksToJsonl,
  parseEditTasks,
  plantBugs,
  type PlantOptions,
  type PlantResult,
} from './plant';
export { functionHead, type EditFormat, type EditTask, type PlantedTask } from './edit-task';
export { parseEditRows, readEditTasks, type CanItEditInstruction, type ReadEditOptions } from './edit-formats';
export {
  EDIT_MODES,
  assembleRegenerated,
  editPromptText,
  editRequest,
  instructionComment,
  type EditMode,
  type EditRequest,
} from './edit-prompt';
export {
  ModelEditGenerator,
  editInPlace,
  type InPlaceResult,
  type InPlaceSettings,
  type ModelEditOptions,
} from './edit-generator';
export { referenceEditGenerator, runEditing, unchangedEditGenerator } from './editing';
export { shareCores, type CoreShare } from './cores';
export { formatTable, writeFailures, writeFileAtomic, writeReport, writeSamples } from './report';
export { Pool } from './pool';
export { PlantRng, fnv1a } from './rng';
export {
  ModelGenerator,
  completionStop,
  defaultEditBlock,
  editProgram,
  type EditResult,
  type EditSettings,
  type ModelGeneratorOptions,
} from './model-generator';
export * from './measures';
