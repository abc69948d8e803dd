// Editing tasks in the public layouts (HumanEvalPack / HumanEvalFix, CanItEdit, `eval plant`), both
// edit modes, and the outputs saved with the scores.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  type EditRequest,
  type GenerateOptions,
  type Generation,
  type Generator,
  ModelEditGenerator,
  assembleRegenerated,
  editInPlace,
  editPromptText,
  editRequest,
  functionHead,
  instructionComment,
  parseEditRows,
  readEditTasks,
  referenceEditGenerator,
  runEditing,
  unchangedEditGenerator,
} from '../src';
import { CANITEDIT_ROWS, HUMANEVALPACK_JS_ROWS, HUMANEVALPACK_ROWS, writeEditFixtures } from './edit-fixtures';
import { corpusDoc, fixture } from './model-fixture';

let dir: string;
let files: ReturnType<typeof writeEditFixtures>;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sd-edit-test-'));
  files = writeEditFixtures(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('HumanEvalPack rows read as HumanEvalFix reads them (Python and JS, plain and gzip)', () => {
  const py = readEditTasks(files.hep);
  expect(py.map((t) => t.taskId)).toEqual(['Python/0', 'Python/1']);
  const [t] = py;
  const row = HUMANEVALPACK_ROWS[0];
  expect(t).toMatchObject({
    language: 'python',
    format: 'humanevalpack',
    entryPoint: 'below_zero',
    instruction: 'Fix bugs in below_zero.', // the harness's, not the row's synthesis instruction
    before: row.declaration + row.buggy_solution,
    after: row.declaration + row.canonical_solution,
    head: row.declaration,
    test: row.test,
  });
  const js = readEditTasks(files.hepJs);
  expect(js[0]).toMatchObject({
    language: 'javascript',
    taskId: 'JavaScript/0',
    head: HUMANEVALPACK_JS_ROWS[0].declaration,
  });
});

test('CanItEdit rows: descriptive instruction by default, lazy on request; the whole program is regenerated', () => {
  const [t] = readEditTasks(files.cie);
  expect(t).toMatchObject({
    taskId: 'CanItEdit/1_stack_size',
    format: 'canitedit',
    language: 'python',
    entryPoint: null,
    instruction: CANITEDIT_ROWS[0].instruction_descriptive,
    before: CANITEDIT_ROWS[0].before,
    test: CANITEDIT_ROWS[0].tests,
    head: '',
  });
  expect(readEditTasks(files.cie, { canItEditInstruction: 'lazy' })[0].instruction).toBe('add a size method');
});

test('bad rows give errors that name the file, the line and the field', () => {
  const go = { ...HUMANEVALPACK_ROWS[0], task_id: 'Go/0' };
  expect(() => parseEditRows(JSON.stringify(go), { source: 'f.jsonl' })).toThrow(
    /f\.jsonl:1: .*Go\/0.*Python and JavaScript/,
  );
  const noBuggy = { ...HUMANEVALPACK_ROWS[0], buggy_solution: 3 };
  expect(() => parseEditRows(`\n${JSON.stringify(noBuggy)}`, { source: 'f.jsonl' })).toThrow(
    /f\.jsonl:2: field "buggy_solution" must be a string/,
  );
  const { tests: _t, ...noTests } = CANITEDIT_ROWS[0];
  expect(() => parseEditRows(JSON.stringify(noTests), { source: 'c.jsonl' })).toThrow(/c\.jsonl:1: field "tests"/);
  expect(() => parseEditRows('{"task_id": "x", "prompt": "p"}', { source: 'h.jsonl' })).toThrow(
    /h\.jsonl:1: not an editing task/,
  );
  expect(() => parseEditRows('{oops', { source: 'h.jsonl' })).toThrow(/h\.jsonl:1: not a JSON object/);
  const twice = [HUMANEVALPACK_ROWS[0], HUMANEVALPACK_ROWS[0]].map((r) => JSON.stringify(r)).join('\n');
  expect(() => parseEditRows(twice, { source: 'd.jsonl' })).toThrow(/d\.jsonl:2: task id "Python\/0" appears twice/);
  const bad = path.join(dir, 'empty.jsonl');
  writeFileSync(bad, '\n\n');
  expect(() => readEditTasks(bad)).toThrow(/empty\.jsonl: no editing tasks found/);
});

test('reference fixes score 100 % and the unchanged programs 0 %, in every format and language', async () => {
  for (const file of [files.hep, files.hepJs, files.cie]) {
    const tasks = readEditTasks(file);
    const ok = await runEditing(tasks, { generator: referenceEditGenerator(tasks), benchmark: file });
    expect(ok.failures).toEqual([]);
    expect(ok.passAtK['1']).toBe(1);
    const same = await runEditing(tasks, { generator: unchangedEditGenerator(tasks), benchmark: file });
    expect(same.passAtK['1']).toBe(0);
    expect(same.samples.every((s) => s.reason !== null && s.program !== null)).toBe(true);
  }
});

test('function heads: Python signature (+ docstring), JS declaration line', () => {
  const src = 'import os\n\n\ndef f(a,\n      b) -> int:  # two lines\n    """Doc.\n\n    More."""\n    return a\n';
  expect(functionHead(src, 'f', 'python')).toBe(src.slice(0, src.indexOf('    return')));
  expect(functionHead(src, 'g', 'python')).toBe('');
  const js = 'const x = 1;\nfunction area({ w, h }) {\n  return w * h;\n}\n';
  expect(functionHead(js, 'area', 'javascript')).toBe('const x = 1;\nfunction area({ w, h }) {\n');
  expect(functionHead('const f = (a) => {\n  return a;\n};\n', 'f', 'javascript')).toBe('const f = (a) => {\n');
});

test('prompts: the instruction is a comment, never inside the program; regenerate continues the head', () => {
  const [t] = readEditTasks(files.hep);
  expect(instructionComment('Fix it.\nCarefully.', 'python')).toBe('# Fix it.\n# Carefully.\n');
  expect(instructionComment('Fix it.', 'javascript')).toBe('// Fix it.\n');
  const inPlace = editRequest(t, 'in-place');
  expect(editPromptText(inPlace)).toBe(`# Fix bugs in below_zero.\n${t.before}`);
  const regen = editRequest(t, 'regenerate');
  const prompt = editPromptText(regen);
  expect(prompt.startsWith(t.before.trimEnd())).toBe(true);
  expect(prompt.endsWith(`\n# Fix bugs in below_zero.\n${t.head}`)).toBe(true);
});

/** Stand-in for a regenerating model: writes the canonical body (with the added / removed lines). */
class FixingRegenerator implements Generator {
  readonly name = 'fixing-regenerator';
  readonly settings = {};
  constructor(private bodies: Map<string, string>) {}
  async generate(_prompt: string, opts: GenerateOptions): Promise<Generation> {
    const r = opts.edit as EditRequest;
    expect(r.mode).toBe('regenerate');
    const body = this.bodies.get(opts.taskId)!;
    return { text: assembleRegenerated(r, body), raw: body, tokens: 0, forwards: 0, seconds: 0 };
  }
}

test('regenerate mode scores fixes that add or remove logic, and saves what the model wrote', async () => {
  const tasks = [...readEditTasks(files.hep), ...readEditTasks(files.hepJs)];
  const bodies = new Map(
    [...HUMANEVALPACK_ROWS, ...HUMANEVALPACK_JS_ROWS].map((r) => [r.task_id, r.canonical_solution] as const),
  );
  const r = await runEditing(tasks, { generator: new FixingRegenerator(bodies), benchmark: 'hep', mode: 'regenerate' });
  expect(r.editMode).toBe('regenerate');
  expect(r.failures).toEqual([]);
  expect(r.samplesPassed).toBe(3);
  for (const s of r.samples) {
    expect(s.output).toBe(bodies.get(s.taskId));
    expect(s.program).toContain(s.output);
  }
  // whatever followed the function in the original program is kept after the regenerated one
  const req = { ...editRequest(tasks[0], 'regenerate'), program: `${tasks[0].before}\n\nX = below_zero([1])\n` };
  expect(assembleRegenerated(req, '    return True\n')).toBe(
    `${tasks[0].head}    return True\n\nX = below_zero([1])\n`,
  );
});

describe('the model editing (a tiny trained fixture)', () => {
  const f = fixture();

  test('in place: the instruction is context, the answer is the program alone', () => {
    const program = corpusDoc(3);
    const frozen = editInPlace(f.model, f.tokenizer, '# Fix the bug in add_3.\n', program, {
      threshold: 1,
      blockSize: 8,
    });
    expect(frozen.text).toBe(program);
    expect(frozen.rewrites).toBe(0);
    expect(frozen.tokens).toBe(f.tokenizer.encode(program).length);
    const broken = program.replace('return x + 3', 'return x - 3');
    const a = editInPlace(f.model, f.tokenizer, '# Fix the bug.\n', broken, { threshold: 0.3, blockSize: 8 });
    const b = editInPlace(f.model, f.tokenizer, '# Fix the bug.\n', broken, { threshold: 0.3, blockSize: 8 });
    expect(a).toMatchObject({ text: b.text, rewrites: b.rewrites });
    expect(a.text.startsWith('#')).toBe(false);
  });

  test('both modes run end to end on HumanEvalPack and CanItEdit files, outputs saved with the scores', async () => {
    const g = new ModelEditGenerator(f.model, f.tokenizer, {
      sampler: { blockSize: 8, maxNewTokens: 24 },
      inPlace: { threshold: 1 },
    });
    for (const file of [files.hep, files.cie]) {
      const tasks = readEditTasks(file);
      const inPlace = await runEditing(tasks, { generator: g, benchmark: file, mode: 'in-place', concurrency: 1 });
      // threshold 1: nothing is rewritten, so the program is the buggy one, unchanged and failing
      expect(inPlace.samples.map((s) => s.output)).toEqual(tasks.map((t) => t.before));
      expect(inPlace.samplesPassed).toBe(0);
      const regen = await runEditing(tasks, {
        generator: g,
        benchmark: file,
        mode: 'regenerate',
        concurrency: 1,
        samples: 2,
        ks: [1, 2],
      });
      expect(regen.samplesTotal).toBe(2 * tasks.length);
      expect(regen.throughput.tokens).toBeGreaterThan(0);
      for (const s of regen.samples) {
        const t = tasks.find((x) => x.taskId === s.taskId)!;
        expect(s.program).toContain(t.head + s.output);
      }
      expect(regen.passAtK['2']).not.toBeUndefined();
    }
  });
});
