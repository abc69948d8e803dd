// The generated task suite as a test bed, end to end: what it costs to make and to verify tasks, and
// what the task model scores on held-out compositions.
//
//   tools/pnpm bench tasks [--model models/seed-diffusion-tasks] [--bench FILE] [--fix FILE] [--per-level 30]
//                          [--programs 200] [--gen-train 3000] [--no-model]
//
// 1. Generation: a suite of --gen-train train + 150 test + 150 valid tasks (seed 11), every reference run
//    in the sandbox (batched): tasks generated and verified per second.
// 2. Sandbox throughput on --programs test programs (prompt + reference + check), each in its own
//    sandboxed process (eval's runProgram: namespaces, limits, scratch dir) at concurrency = cores,
//    against the anchor: a plain `python3 -c <program>` per program at the same concurrency (and
//    `python3 -I -B -c`, the sandbox's interpreter flags, which skip the user site and .pyc writes);
//    three alternating rounds of each (median, min, max); and the batched sandbox (many programs per process) the
//    generator uses.
// 3. The model (skipped with --no-model or when the model folder is missing, and said so): pass@1 on
//    the first --per-level tasks of each level of the test split (fixed before the run: the file's
//    order, which interleaves levels) with greedy AR (mode ar, b = 1) and the default block decoding
//    (cache mode, b = 32, threshold 0.9) with its tokens per forward; the repair rate on the
//    planted-bug split (tests pass after the model's edit).
// Ends on one JSON line. Figures are on generated tasks, not HumanEval/MBPP.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const evalPkg = require(path.join(root, 'packages/eval/dist'));
const tasksPkg = require(path.join(root, 'packages/tasks/dist'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const flag = (name) => args.includes(`--${name}`);
function fail(msg) {
  console.error(`bench tasks: ${msg}`);
  process.exit(2);
}
const PROGRAMS = Number(opt('programs', 200));
const GEN_TRAIN = Number(opt('gen-train', 3000));
const PER_LEVEL = Number(opt('per-level', 30));
const modelDir = opt('model', path.join(root, 'models/seed-diffusion-tasks'));
const concurrency = Math.max(1, os.cpus().length);
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1] };
};
const r3 = (x) => (x === null || x === undefined ? null : Number(x.toFixed(3)));

// ------------------------------------------------------------------ 1. generation
let t0 = performance.now();
const suite = await tasksPkg.generateSuite({ seed: 11, train: GEN_TRAIN, test: 150, valid: 150 });
const genSeconds = (performance.now() - t0) / 1000;
const kept = GEN_TRAIN + 300;
console.log(
  `generation: ${kept} tasks kept of ${suite.stats.verified} verified in ${genSeconds.toFixed(1)} s: ` +
    `${(kept / genSeconds).toFixed(0)} tasks/s (${(suite.stats.verified / genSeconds).toFixed(0)} references verified/s)`,
);

// ------------------------------------------------------------------ 2. sandbox throughput
const benchFile = opt('bench', path.join(root, 'data/tasks-s1/test.jsonl.gz'));
const progTasks = suite.splits.test.concat(suite.splits.valid).slice(0, PROGRAMS);
const programs = progTasks.map(
  (t) => evalPkg.programFor('python', t.prompt + t.canonical_solution, t.test, t.entry_point).source,
);

async function pool(n, work) {
  const p = new evalPkg.Pool(concurrency);
  const res = new Array(n);
  await Promise.all(Array.from({ length: n }, (_, i) => p.run(async (slot) => (res[i] = await work(i, slot)))));
  return res;
}
function plainPython(source, flags = []) {
  return new Promise((resolve) => {
    const c = spawn('python3', [...flags, '-c', source], { stdio: ['ignore', 'ignore', 'ignore'] });
    c.on('close', (code) => resolve(code === 0));
  });
}
// alternate the sides, three rounds, so drift in the machine's load hits all of them
const rounds = { sandbox: [], plain: [], plainIsolated: [] };
let okSandbox = 0;
let okPlain = 0;
let okIsolated = 0;
for (let rep = 0; rep < 3; rep++) {
  t0 = performance.now();
  const a = await pool(programs.length, (i, slot) =>
    evalPkg.runProgram({ runtime: 'python', source: programs[i] }, { slot }),
  );
  rounds.sandbox.push(programs.length / ((performance.now() - t0) / 1000));
  okSandbox = a.filter((r) => r.status === 'passed').length;
  t0 = performance.now();
  const b = await pool(programs.length, (i) => plainPython(programs[i]));
  rounds.plain.push(programs.length / ((performance.now() - t0) / 1000));
  okPlain = b.filter(Boolean).length;
  // the sandbox's own interpreter flags (-I -B), to separate the isolation's cost from Python's start-up
  t0 = performance.now();
  const c = await pool(programs.length, (i) => plainPython(programs[i], ['-I', '-B']));
  rounds.plainIsolated.push(programs.length / ((performance.now() - t0) / 1000));
  okIsolated = c.filter(Boolean).length;
}
if (okSandbox !== programs.length || okPlain !== programs.length || okIsolated !== programs.length)
  fail(`references failed: sandbox ${okSandbox}, plain ${okPlain}, plain -I -B ${okIsolated} of ${programs.length}`);
t0 = performance.now();
const batched = await tasksPkg.runChecks(
  progTasks.map((t) => ({ code: t.prompt + t.canonical_solution, test: t.test, entry: t.entry_point })),
  { batchSize: 50 },
);
const batchedRate = progTasks.length / ((performance.now() - t0) / 1000);
if (!batched.every(Boolean)) fail('a reference failed in the batched sandbox');
const sb = stats(rounds.sandbox);
const pl = stats(rounds.plain);
const pi = stats(rounds.plainIsolated);
const caps = evalPkg.probeSandbox();
console.log(
  `sandbox: ${programs.length} programs, concurrency ${concurrency}: ${sb.median.toFixed(1)} programs/s ` +
    `(rounds ${rounds.sandbox.map((x) => x.toFixed(1)).join(', ')}; network isolated ${caps.networkIsolated}, uid drop ${caps.uidDrop}); ` +
    `plain python3 -c: ${pl.median.toFixed(1)} programs/s (${rounds.plain.map((x) => x.toFixed(1)).join(', ')}); ` +
    `ratio ${(sb.median / pl.median).toFixed(2)}; python3 -I -B -c (the sandbox's flags): ${pi.median.toFixed(1)} programs/s, ` +
    `ratio ${(sb.median / pi.median).toFixed(2)}; batched sandbox (50 per process): ${batchedRate.toFixed(0)} programs/s`,
);
console.log(
  `  a 10k-task RL run: ${(10000 / sb.median / 60).toFixed(1)} min of verification one program per process, ` +
    `${(10000 / batchedRate / 60).toFixed(1)} min batched, on this machine`,
);

// ------------------------------------------------------------------ 3. the model
let model;
if (flag('no-model')) model = { skipped: '--no-model' };
else if (!existsSync(path.join(modelDir, 'config.json'))) {
  model = { skipped: `no model at ${modelDir}` };
  console.log(`model: skipped (${model.skipped})`);
} else if (!existsSync(benchFile)) {
  model = {
    skipped: `no test split at ${benchFile} (make it with: tools/pnpm seed-diffusion tasks make --out data/tasks-s1 --seed 1)`,
  };
  console.log(`model: skipped (${model.skipped})`);
} else {
  const { Model } = require(path.join(root, 'packages/model/dist'));
  const { Tokenizer } = require(path.join(root, 'packages/tokenizer/dist'));
  const m = Model.load(modelDir);
  m.useHalfWeights();
  m.backend.numThreads = 1;
  const tok = Tokenizer.load(path.join(modelDir, 'tokenizer.json'));
  const levelOf = new Map(tasksPkg.readTasks(benchFile).map((t) => [t.task_id, t.level]));
  const all = evalPkg.readBenchmark(benchFile);
  const chosen = [];
  for (const l of [1, 2, 3]) chosen.push(...all.filter((t) => levelOf.get(t.taskId) === l).slice(0, PER_LEVEL));
  const run = async (name, sampler) => {
    const gen = new evalPkg.ModelGenerator(m, tok, { name, sampler });
    const rep = await evalPkg.runPassAtK(chosen, { generator: gen, benchmark: benchFile, samples: 1, ks: [1] });
    const per = {};
    for (const l of [1, 2, 3]) {
      const rows = rep.perTask.filter((t) => levelOf.get(t.taskId) === l);
      per[l] = rows.filter((t) => t.c > 0).length / rows.length;
    }
    console.log(
      `${name}: pass@1 ${(100 * rep.passAtK['1']).toFixed(1)}% (level 1 ${(100 * per[1]).toFixed(1)}%, ` +
        `2 ${(100 * per[2]).toFixed(1)}%, 3 ${(100 * per[3]).toFixed(1)}%), ${rep.throughput.tokensPerForward.toFixed(2)} tokens/forward, ` +
        `${rep.throughput.tokensPerSecond.toFixed(1)} tokens/s`,
    );
    return { pass: rep.passAtK['1'], per, tpf: rep.throughput.tokensPerForward, tps: rep.throughput.tokensPerSecond };
  };
  const ar = await run('ar b=1', { mode: 'ar', blockSize: 1 });
  const block = await run('block b=32 t=0.9 (default)', { mode: 'cache', blockSize: 32, threshold: 0.9 });
  let repair = null;
  const fixFile = opt('fix', benchFile.replace(/test\.jsonl\.gz$/, 'test-fix.jsonl'));
  if (existsSync(fixFile)) {
    let buf = readFileSync(fixFile);
    if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
    const edits = evalPkg.parseEditTasks(buf.toString('utf8'), fixFile).slice(0, 3 * PER_LEVEL);
    const gen = new evalPkg.ModelGenerator(m, tok, { name: 'edit' });
    const rep = await evalPkg.runEditing(edits, { generator: gen, benchmark: fixFile });
    repair = rep.passAtK['1'];
    console.log(
      `repair: ${(100 * repair).toFixed(1)}% of ${edits.length} planted bugs fixed (tests pass after the edit)`,
    );
  } else console.log(`repair: skipped (no planted-bug split at ${fixFile})`);
  model = {
    model: path.relative(root, modelDir),
    tasks: chosen.length,
    pass_at_1_ar: r3(ar.pass),
    pass_at_1_ar_by_level: Object.fromEntries(Object.entries(ar.per).map(([k, v]) => [k, r3(v)])),
    pass_at_1_block: r3(block.pass),
    pass_at_1_block_by_level: Object.fromEntries(Object.entries(block.per).map(([k, v]) => [k, r3(v)])),
    tokens_per_forward_block: r3(block.tpf),
    tokens_per_second_ar: r3(ar.tps),
    tokens_per_second_block: r3(block.tps),
    repair_rate: r3(repair),
  };
}
console.log(
  JSON.stringify({
    bench: 'tasks',
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    tasks_generated_per_s: r3(kept / genSeconds),
    references_verified_per_s: r3(suite.stats.verified / genSeconds),
    sandbox_programs_per_s: r3(sb.median),
    sandbox_programs_per_s_minmax: [r3(sb.min), r3(sb.max)],
    plain_python_programs_per_s: r3(pl.median),
    sandbox_vs_plain: r3(sb.median / pl.median),
    plain_python_isolated_programs_per_s: r3(pi.median),
    sandbox_vs_plain_isolated: r3(sb.median / pi.median),
    batched_sandbox_programs_per_s: r3(batchedRate),
    network_isolated: caps.networkIsolated,
    pass_at_1_ar: model.pass_at_1_ar ?? null,
    pass_at_1_block: model.pass_at_1_block ?? null,
    tokens_per_forward_block: model.tokens_per_forward_block ?? null,
    repair_rate: model.repair_rate ?? null,
    ...model,
  }),
);
