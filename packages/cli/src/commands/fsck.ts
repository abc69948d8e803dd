import * as fs from 'node:fs';
import * as path from 'node:path';

import { Command } from 'commander';

// Loaded when the command runs, so `info` and `--help` stay fast.
const lazy = {
  model: () => require('@seed-diffusion/model') as typeof import('@seed-diffusion/model'),
  tokenizer: () => require('@seed-diffusion/tokenizer') as typeof import('@seed-diffusion/tokenizer'),
};

export interface FsckCheck {
  /** What was checked ("config.json", "checkpoints/step-00000200", …). */
  what: string;
  ok: boolean;
  /** Warnings are reported but do not fail the check (stale temporaries, a torn log line). */
  warning?: boolean;
  detail: string;
}

export interface FsckReport {
  path: string;
  kind: 'model' | 'run';
  ok: boolean;
  checks: FsckCheck[];
}

export interface FsckOptions {
  /** Skip the NaN/Inf scan of the weights. */
  trustWeights?: boolean;
  /** Load every complete checkpoint of a run, not only the one --resume would use. */
  all?: boolean;
  /** Remove stale temporaries of interrupted saves. */
  clean?: boolean;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Checks a model folder the way loading does: config, weights (shapes, unused tensors, NaN/Inf), tokenizer, manifest. */
export function checkModelFolder(dir: string, opts: FsckOptions = {}, label = ''): FsckCheck[] {
  const m = lazy.model();
  const checks: FsckCheck[] = [];
  const at = (what: string) => (label ? `${label}/${what}` : what);
  if (fs.existsSync(path.join(dir, m.MANIFEST_FILE))) {
    const v = m.verifyCheckpoint(dir);
    checks.push({
      what: at(m.MANIFEST_FILE),
      ok: v.ok,
      detail: v.ok ? `step ${v.step}, ${v.manifest.files.length} files, sizes and SHA-256 match` : v.reason,
    });
  }
  let config: ReturnType<typeof m.readConfig> | null = null;
  try {
    config = m.readConfig(dir);
    checks.push({
      what: at('config.json'),
      ok: true,
      detail:
        `${(m.parameterCount(config) / 1e6).toFixed(2)}M parameters: d ${config.hiddenSize}, ${config.numLayers} layers, ` +
        `${config.numHeads}/${config.numKvHeads} heads, vocab ${config.vocabSize}`,
    });
  } catch (e) {
    checks.push({ what: at('config.json'), ok: false, detail: errorText(e) });
  }
  if (config) {
    try {
      const t0 = performance.now();
      m.readModelFolder(dir, { checkFinite: !opts.trustWeights, verifyManifest: false });
      checks.push({
        what: at('weights'),
        ok: true,
        detail:
          `every tensor present with its shape, none unused` +
          (opts.trustWeights ? ' (NaN/Inf scan skipped)' : ', all values finite') +
          ` (${((performance.now() - t0) / 1000).toFixed(2)} s)`,
      });
    } catch (e) {
      checks.push({ what: at('weights'), ok: false, detail: errorText(e) });
    }
  }
  const tokFile = path.join(dir, 'tokenizer.json');
  if (fs.existsSync(tokFile)) {
    try {
      const tok = lazy.tokenizer().Tokenizer.load(tokFile);
      if (config) m.checkTokenizerFits(config, tok, dir);
      checks.push({ what: at('tokenizer.json'), ok: true, detail: `${tok.vocabSize} ids, fits the config` });
    } catch (e) {
      checks.push({ what: at('tokenizer.json'), ok: false, detail: errorText(e) });
    }
  } else {
    checks.push({ what: at('tokenizer.json'), ok: false, detail: 'missing (generate and eval need it)' });
  }
  return checks;
}

/** Checks a training run folder: its checkpoints, the `checkpoint` link, leftovers and the log. */
export function checkRunFolder(dir: string, opts: FsckOptions = {}): FsckCheck[] {
  const m = lazy.model();
  const checks: FsckCheck[] = [];
  const stale: string[] = [];
  for (const d of [dir, path.join(dir, m.CHECKPOINTS_DIR)]) {
    if (fs.existsSync(d)) for (const n of fs.readdirSync(d)) if (m.isTempName(n)) stale.push(path.join(d, n));
  }
  if (stale.length > 0) {
    if (opts.clean) for (const s of stale) fs.rmSync(s, { recursive: true, force: true });
    checks.push({
      what: 'temporaries',
      ok: true,
      warning: !opts.clean,
      detail:
        `${stale.length} left by interrupted saves (${stale.map((s) => path.relative(dir, s)).join(', ')}); ` +
        (opts.clean ? 'removed' : 'the next save removes them, or run with --clean'),
    });
  }
  const list = m.listRunCheckpoints(dir);
  let resumeFrom: string | null = null;
  for (const c of list) {
    const v = m.verifyCheckpoint(c.dir);
    const rel = path.relative(dir, c.dir);
    if (!v.ok) {
      checks.push({ what: rel, ok: false, detail: `incomplete: ${v.reason}` });
      continue;
    }
    const first = resumeFrom === null;
    if (first) resumeFrom = c.dir;
    checks.push({ what: rel, ok: true, detail: `complete, step ${v.step}${first ? ' (what --resume uses)' : ''}` });
    if (first || opts.all)
      checks.push(...checkModelFolder(c.dir, opts, rel).filter((k) => !k.what.endsWith(m.MANIFEST_FILE)));
  }
  const link = path.join(dir, m.LATEST_LINK);
  const st = fs.lstatSync(link, { throwIfNoEntry: false });
  if (st?.isSymbolicLink()) {
    const target = fs.readlinkSync(link);
    const v = m.verifyCheckpoint(link);
    checks.push({
      what: m.LATEST_LINK,
      ok: v.ok,
      detail: v.ok ? `-> ${target} (step ${v.step})` : `-> ${target}: ${v.reason}`,
    });
  } else if (st?.isDirectory()) {
    checks.push({
      what: m.LATEST_LINK,
      ok: true,
      warning: true,
      detail: 'a folder of the layout before step directories; the next save moves to checkpoints/',
    });
    if (resumeFrom === null) checks.push(...checkModelFolder(link, opts, m.LATEST_LINK));
  } else if (list.length > 0) {
    checks.push({
      what: m.LATEST_LINK,
      ok: false,
      detail: 'missing (the newest complete checkpoint is still used by --resume)',
    });
  }
  if (list.length === 0 && !st)
    checks.push({ what: 'checkpoints', ok: false, detail: 'no checkpoint in this run folder' });
  const log = path.join(dir, 'train_log.jsonl');
  if (fs.existsSync(log)) {
    const lines = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    let torn = 0;
    let last = 0;
    for (const l of lines) {
      try {
        last = Math.max(last, JSON.parse(l).step ?? 0);
      } catch {
        torn++;
      }
    }
    checks.push({
      what: 'train_log.jsonl',
      ok: true,
      warning: torn > 0,
      detail: `${lines.length} records up to step ${last}${torn ? `, ${torn} torn line(s) (a crash mid-write; skipped when plotting)` : ''}`,
    });
  }
  return checks;
}

/** What `seed-diffusion fsck` reports for a model folder or a run folder. */
export function fsck(target: string, opts: FsckOptions = {}): FsckReport {
  if (!fs.existsSync(target)) throw new Error(`${target}: does not exist`);
  const m = lazy.model();
  const isRun =
    fs.existsSync(path.join(target, m.CHECKPOINTS_DIR)) ||
    fs.lstatSync(path.join(target, m.LATEST_LINK), { throwIfNoEntry: false }) !== undefined ||
    fs.existsSync(path.join(target, 'train_log.jsonl'));
  const checks = isRun ? checkRunFolder(target, opts) : checkModelFolder(target, opts);
  return { path: target, kind: isRun ? 'run' : 'model', ok: checks.every((c) => c.ok), checks };
}

/** `seed-diffusion fsck <dir>`: checks a model folder or a training run folder and reports. */
export function fsckCommand(): Command {
  return new Command('fsck')
    .description(
      'check a model folder (config, weights, tokenizer, manifest) or a run folder (checkpoints, resume point, leftovers, log)',
    )
    .argument('<dir>', 'a model folder (config.json, model.safetensors, tokenizer.json) or a `train --out` folder')
    .option('--trust-weights', 'skip the NaN/Inf scan of the weights')
    .option('--all', 'run folders: load every complete checkpoint, not only the newest')
    .option('--clean', 'run folders: remove temporaries left by interrupted saves')
    .option('--json', 'print the report as one JSON object')
    .action((dir: string, o: FsckOptions & { json?: boolean }) => {
      const report = fsck(dir, o);
      if (o.json) {
        console.log(JSON.stringify(report));
      } else {
        console.log(`${report.kind} folder ${path.resolve(dir)}`);
        for (const c of report.checks) {
          console.log(`  ${c.ok ? (c.warning ? 'warn' : 'ok  ') : 'FAIL'}  ${c.what}: ${c.detail}`);
        }
        const bad = report.checks.filter((c) => !c.ok).length;
        console.log(bad === 0 ? 'fsck: no problems found' : `fsck: ${bad} problem(s) found`);
      }
      if (!report.ok) process.exitCode = 1;
    });
}
