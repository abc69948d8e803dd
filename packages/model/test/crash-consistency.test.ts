// Crash consistency of training checkpoints: a fault is injected before every filesystem step of a
// save (each open, write, fsync, close, rename, symlink, removal and directory fsync) — not only at
// random moments. After each, the newest complete checkpoint must load, `resumeLatest` must pick
// it (the new one exactly when its directory rename happened), and the resumed run must end
// bit-identical to one that never stopped; the next save removes every leftover temporary.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { backend } from '@seed-diffusion/native';

import {
  CHECKPOINTS_DIR,
  LATEST_LINK,
  MANIFEST_FILE,
  latestCheckpoint,
  listRunCheckpoints,
  stepDirName,
  verifyCheckpoint,
} from '../src/checkpoint-dir';
import { makeConfig } from '../src/config';
import type { FsStep } from '../src/fsutil';
import { SimulatedCrash, isTempName, setFsFaultHook } from '../src/fsutil';
import { Model } from '../src/model';
import { Trainer } from '../src/trainer';

backend().numThreads = 1;

const cfg = makeConfig({
  vocabSize: 16,
  hiddenSize: 16,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  intermediateSize: 32,
  maxSeqLen: 16,
  maskTokenId: 15,
  eosTokenId: 0,
  trainedBlockSizes: [4, 8],
});
const stream = Int32Array.from({ length: 16 * 32 }, (_, i) => (i % 16 === 0 ? 0 : 1 + ((7 * i + (i >> 4)) % 14)));
const data = { train: stream };
const opts = { steps: 4, batch: 2, seqLen: 16, lr: 5e-3, warmup: 1, seed: 3, editStart: 0.5 };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sd-crash-'));

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Every leftover temporary under a run folder. */
function temporaries(dir: string): string[] {
  const out: string[] = [];
  for (const d of [dir, path.join(dir, CHECKPOINTS_DIR)]) {
    if (fs.existsSync(d)) for (const n of fs.readdirSync(d)) if (isTempName(n)) out.push(n);
  }
  return out;
}

/** A run that has saved steps 1 and 2 and trained step 3 (not yet saved). */
function runToStep3(dir: string): Trainer {
  const t = new Trainer(Model.init(cfg, 5), data, { ...opts, outDir: dir, checkpointEvery: 1, keepCheckpoints: 2 });
  for (let i = 0; i < 2; i++) {
    t.trainStep();
    t.saveRunCheckpoint(dir);
  }
  t.trainStep();
  return t;
}

afterEach(() => setFsFaultHook(null));

test('a fault before any filesystem step of a save loses at most that save; resume is bit-identical', () => {
  const ref = new Trainer(Model.init(cfg, 5), data, opts);
  ref.run();
  const refParams = bytes(ref.model.params.toArray());
  const refM = bytes(ref.m.toArray());
  const refV = bytes(ref.v.toArray());

  // The steps of one save (step 3, with step 1 pruned since two are kept).
  const points: { step: FsStep; target: string }[] = [];
  const probeDir = tmp();
  const probe = runToStep3(probeDir);
  setFsFaultHook((step, target) => points.push({ step, target }));
  probe.saveRunCheckpoint(probeDir);
  setFsFaultHook(null);
  expect(points.length).toBeGreaterThan(30);
  // The commit: the rename of the temporary to checkpoints/step-00000003.
  const commit = points.findIndex((p) => p.step === 'rename' && path.basename(p.target) === stepDirName(3));
  expect(commit).toBeGreaterThan(0);

  const kinds = new Map<string, number>();
  for (let k = 0; k < points.length; k++) {
    const dir = tmp();
    const t = runToStep3(dir);
    let n = 0;
    setFsFaultHook((step, target) => {
      if (n++ === k) throw new SimulatedCrash(step, target);
    });
    expect(() => t.saveRunCheckpoint(dir)).toThrow(SimulatedCrash);
    setFsFaultHook(null);
    kinds.set(points[k].step, (kinds.get(points[k].step) ?? 0) + 1);

    // The link always names a complete checkpoint whose weights load.
    const link = path.join(dir, LATEST_LINK);
    expect(verifyCheckpoint(link).ok).toBe(true);
    Model.load(link).dispose();

    const { trainer, from, skipped } = Trainer.resumeLatest(dir, data);
    const expected = k > commit ? 3 : 2;
    expect({ k, at: points[k], step: trainer.step }).toEqual({ k, at: points[k], step: expected });
    expect(path.basename(from)).toBe(stepDirName(expected));
    expect(skipped).toEqual([]);
    trainer.run();
    expect(trainer.step).toBe(4);
    expect(bytes(trainer.model.params.toArray()).equals(refParams)).toBe(true);
    expect(bytes(trainer.m.toArray()).equals(refM)).toBe(true);
    expect(bytes(trainer.v.toArray()).equals(refV)).toBe(true);
    // The next save cleaned up after the crash; two checkpoints are kept, the link at the newest.
    expect(temporaries(dir)).toEqual([]);
    expect(listRunCheckpoints(dir).map((c) => c.step)).toEqual([4, 3]);
    expect(fs.readlinkSync(link)).toBe(path.join(CHECKPOINTS_DIR, stepDirName(4)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `fault injected before each of ${points.length} filesystem steps of a save: ` +
      [...kinds].map(([s, c]) => `${c} ${s}`).join(', ') +
      `; all resumed bit-identically (from step 3 after the commit at step ${commit + 1}, else step 2)`,
  );
});

test('resume skips an incomplete newer checkpoint and says why; stale temporaries are removed', () => {
  const dir = tmp();
  const t = runToStep3(dir);
  t.saveRunCheckpoint(dir);
  // Damage step 3 after the fact (a disk error, a partial copy): it no longer verifies.
  const step3 = path.join(dir, CHECKPOINTS_DIR, stepDirName(3));
  const opt = path.join(step3, 'optimizer.safetensors');
  const buf = fs.readFileSync(opt);
  buf[buf.length - 1] ^= 0xff;
  fs.writeFileSync(opt, buf);
  const latest = latestCheckpoint(dir);
  expect(latest.step).toBe(2);
  expect(latest.skipped).toEqual([{ dir: step3, reason: 'optimizer.safetensors does not match its SHA-256' }]);
  fs.truncateSync(opt, 10);
  expect(latestCheckpoint(dir).skipped[0].reason).toMatch(/optimizer.safetensors has 10 bytes, the manifest says \d+/);
  // A loader given that folder directly refuses it by name too.
  expect(() => Trainer.resume(step3, data)).toThrow(/optimizer.safetensors has 10 bytes/);
  fs.writeFileSync(path.join(dir, CHECKPOINTS_DIR, `${stepDirName(9)}.tmp-1-x-0`), 'junk');
  const { trainer } = Trainer.resumeLatest(dir, data);
  trainer.run();
  expect(temporaries(dir)).toEqual([]);
});

test('a checkpoint of another format version is refused by name', () => {
  const dir = tmp();
  const t = runToStep3(dir);
  t.saveRunCheckpoint(dir);
  const mf = path.join(dir, CHECKPOINTS_DIR, stepDirName(3), MANIFEST_FILE);
  const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
  fs.writeFileSync(mf, JSON.stringify({ ...m, version: 2 }));
  expect(() => Trainer.resume(path.join(dir, CHECKPOINTS_DIR, stepDirName(3)), data)).toThrow(
    /checkpoint format version 2 is newer than the version 1 this build reads/,
  );
  fs.writeFileSync(mf, JSON.stringify({ ...m, version: 0 }));
  expect(() => Model.load(path.join(dir, CHECKPOINTS_DIR, stepDirName(3)))).toThrow(/version 0 is older/);
  fs.writeFileSync(mf, JSON.stringify({ ...m, format: 'other-tool' }));
  expect(latestCheckpoint(dir).skipped[0].reason).toMatch(/format "other-tool" is not "seed-diffusion-checkpoint"/);
  const state = path.join(dir, CHECKPOINTS_DIR, stepDirName(2), 'trainer_state.json');
  const s = JSON.parse(fs.readFileSync(state, 'utf8'));
  fs.writeFileSync(state, JSON.stringify({ ...s, version: 7 }));
  fs.rmSync(path.join(dir, CHECKPOINTS_DIR, stepDirName(2), MANIFEST_FILE));
  expect(() => Trainer.resume(path.join(dir, CHECKPOINTS_DIR, stepDirName(2)), data)).toThrow(
    /trainer state version 7; this build reads version 1/,
  );
});

test('keepCheckpoints keeps the newest K step directories and the link at the newest', () => {
  const dir = tmp();
  const t = new Trainer(Model.init(cfg, 5), data, {
    ...opts,
    steps: 5,
    outDir: dir,
    checkpointEvery: 1,
    keepCheckpoints: 3,
  });
  t.run();
  expect(listRunCheckpoints(dir).map((c) => c.step)).toEqual([5, 4, 3]);
  expect(fs.readlinkSync(path.join(dir, LATEST_LINK))).toBe(path.join(CHECKPOINTS_DIR, stepDirName(5)));
  expect(latestCheckpoint(dir).step).toBe(5);
});
