// The model-backed Generator: completions from the block-diffusion sampler with the top-level stop,
// edits by block-wise self-correction, and both scored end to end through the execution harness.
import {
  EDIT_INSTRUCTION,
  ModelGenerator,
  completionStop,
  editProgram,
  editPrompt,
  runEditing,
  runPassAtK,
  type EditTask,
} from '../src';
import { PY_TASKS } from './fixtures';
import { corpusDoc, fixture } from './model-fixture';

const f = fixture();
const call = { taskId: 't', language: 'python' as const, mode: 'complete' as const, sample: 0, seed: 1 };

test('completionStop: Python ends at the first top-level line, JS/TS after the closing brace', () => {
  expect(completionStop('    return x\n\n    y = 1\n', 'python')).toBe(-1);
  expect(completionStop('    return x\n\ndef g():\n', 'python')).toBe('    return x\n'.length);
  expect(completionStop('    return x\n#', 'python')).toBe('    return x'.length);
  expect(completionStop('  return x;\n}\nfoo()', 'javascript')).toBe('  return x;\n}\n'.length);
  expect(completionStop('  return x;\n}', 'typescript')).toBe(-1);
  expect(completionStop('  if (a) {\n  }\n', 'javascript')).toBe(-1);
});

test('complete: text from the sampler, tokens and forwards counted, settings recorded, deterministic', async () => {
  const g = new ModelGenerator(f.model, f.tokenizer, { sampler: { blockSize: 8, maxNewTokens: 24 } });
  const prompt = corpusDoc(3).slice(0, 40);
  const a = await g.generate(prompt, call);
  const b = await g.generate(prompt, call);
  expect(a.text).toBe(b.text);
  expect(a.tokens).toBeGreaterThan(0);
  expect(a.tokens).toBeLessThanOrEqual(24);
  expect(a.forwards).toBeGreaterThan(0);
  expect(a.seconds).toBeGreaterThan(0);
  expect(/\n(?=\S)/.test(a.text)).toBe(false);
  expect(g.settings).toMatchObject({
    blockSize: 8,
    policy: 'threshold',
    threshold: 0.9,
    temperature: 0,
    maxNewTokens: 24,
  });
  // sampling: the per-sample seed is used
  const t = new ModelGenerator(f.model, f.tokenizer, { sampler: { blockSize: 8, maxNewTokens: 24, temperature: 1 } });
  const outs = new Set<string>();
  for (let s = 0; s < 6; s++) outs.add((await t.generate(prompt, { ...call, seed: s })).text);
  expect(outs.size).toBeGreaterThan(1);
});

test('edit: with no rewrite allowed the program comes back unchanged; rewrites show in the text and the count', async () => {
  const program = corpusDoc(5);
  const frozen = editProgram(f.model, f.tokenizer, program, { threshold: 1, blockSize: 8 });
  expect(frozen.text).toBe(program);
  expect(frozen.rewrites).toBe(0);
  expect(frozen.tokens).toBe(f.tokenizer.encode(program).length);
  // one forward per block (nothing changes) plus one commit per block but the last
  const blocks = Math.ceil(frozen.tokens / 8);
  expect(frozen.forwards).toBe(2 * blocks - 1);
  const g = new ModelGenerator(f.model, f.tokenizer, { edit: { threshold: 1 } });
  const task = { instruction: EDIT_INSTRUCTION, before: program } as EditTask;
  const viaPrompt = await g.generate(editPrompt(task), { ...call, mode: 'edit' });
  expect(viaPrompt.text).toBe(program); // the instruction line is not part of the program
  expect(viaPrompt.forwards).toBe(editProgram(f.model, f.tokenizer, program, { threshold: 1 }).forwards);
  const broken = program.replace('return x + 5', 'return x - 5');
  const loose = editProgram(f.model, f.tokenizer, broken, { threshold: 0.3, blockSize: 8 });
  expect(loose.rewrites).toBeGreaterThan(0);
  expect(loose.text).not.toBe(broken);
  expect(editProgram(f.model, f.tokenizer, broken, { threshold: 0.3, blockSize: 8 })).toMatchObject({
    text: loose.text,
    rewrites: loose.rewrites,
  });
});

test('editing evaluation with the model generator: a frozen model answers the broken program, which fails', async () => {
  const t = PY_TASKS[0];
  const after = t.prompt + t.canonicalSolution!;
  const task: EditTask = {
    taskId: 'Fix/sum_below/plant-0',
    sourceTaskId: t.taskId,
    language: 'python',
    entryPoint: t.entryPoint,
    instruction: EDIT_INSTRUCTION,
    before: after.replace('x < limit', 'x <= limit'),
    after,
    test: t.test,
    head: t.prompt,
    format: 'planted',
    bug: { kind: 'compare', rule: 'test', line: 0, offset: 0, from: '<', to: '<=' },
    plant: {
      seed: 0,
      rules: 'test',
      rng: 'test',
      attempt: 1,
      candidates: 1,
      verified: { before: 'failed', after: 'passed' },
    },
  };
  const g = new ModelGenerator(f.model, f.tokenizer, { edit: { threshold: 1 } });
  const report = await runEditing([task], { generator: g, benchmark: 'fixture-edit', concurrency: 1 });
  expect(report.kind).toBe('edit');
  expect(report.samplesPassed).toBe(0);
  expect(report.throughput.forwards).toBeGreaterThan(0);
  expect(report.generator.settings).toMatchObject({ edit: { threshold: 1, iterations: 4, blockSize: 16 } });
});

test('pass@k with the model generator runs end to end and reports tokens per forward', async () => {
  const g = new ModelGenerator(f.model, f.tokenizer, { sampler: { blockSize: 8, maxNewTokens: 16 } });
  const report = await runPassAtK(PY_TASKS.slice(0, 1), {
    generator: g,
    benchmark: 'fixture',
    samples: 2,
    ks: [1],
    concurrency: 1,
  });
  expect(report.samplesTotal).toBe(2);
  expect(report.throughput.tokens).toBeGreaterThan(0);
  expect(report.throughput.tokensPerForward).not.toBeNull();
  expect(report.generator.settings).toMatchObject({ blockSize: 8 });
  // a 2-layer model trained on a toy corpus does not solve the task
  expect(report.samplesPassed).toBe(0);
});
