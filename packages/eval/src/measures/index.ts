// Small-scale measures of a model on held-out code: likelihood bound, next-line completion,
// span restoration and repair of token edits, each run with several seeds.
export { defaultElboBlock, maskedElbo, randomWindows, type ElboOptions } from './elbo';
export { heldOutFromDataset, heldOutFromFolder, heldOutFromTexts, type FolderOptions, type HeldOut } from './heldout';
export {
  candidateLines,
  contextBefore,
  nextLineCompletion,
  type NextLineExample,
  type NextLineOptions,
} from './next-line';
export { repairEdits, substitute, type RepairOptions } from './repair';
export { drawSpan, restoreSpans, type RestoreOptions } from './restore';
export { sampleSeed, samplerSettings } from './sampling';
export { checkSelfCorrect, selfCorrectBlock, type SelfCorrectOptions, type SelfCorrectResult } from './self-correct';
export { charLevenshtein, editSimilarity } from './similarity';
export { spread, summarize, type MeasureRun, type MeasureSummary, type Spread } from './stats';
export {
  MEASURES,
  formatSuiteTable,
  measureRng,
  runSuite,
  shortSettings,
  type MeasureName,
  type SuiteOptions,
  type SuiteReport,
} from './suite';
