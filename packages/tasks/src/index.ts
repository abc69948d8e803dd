// @seed-diffusion/tasks: a seeded generator of verifiable Python code tasks (HumanEval format).
export * from './primitives';
export * from './pipeline';
export { drawInputs } from './inputs';
export { runChecks, runOutputs, type BatchOptions, type CheckJob, type OutputJob } from './oracle';
export * from './generate';
export { readTasks, tasksToJsonl, trainingText, writeBytesAtomic, writeTasks } from './io';
export { TaskRng, unitHash } from './rng';
export { buildCard, cardMarkdown, type Card, type SplitCheck } from './card';
