// Checkpoints as whole directories. A checkpoint is assembled under a temporary name, its files
// fsynced, a manifest naming every file with its size and SHA-256 written last, and only then
// renamed into place — so a directory under a real name is always complete, and a crash at any
// point leaves at worst a temporary that the next save removes. A training run keeps its last K
// checkpoints as `checkpoints/step-NNNNNNNN/` with `checkpoint` a symlink to the newest; resuming
// picks the newest one whose manifest verifies and says which (and why newer ones were skipped).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  fsyncDir,
  isTempName,
  mkdirDurable,
  removeDurable,
  renameDurable,
  symlinkAtomic,
  tempSibling,
  writeFileDurable,
} from './fsutil';

export const MANIFEST_FILE = 'manifest.json';
export const CHECKPOINT_FORMAT = 'seed-diffusion-checkpoint';
/** The checkpoint layout this build writes and reads; others are refused by name. */
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINTS_DIR = 'checkpoints';
export const LATEST_LINK = 'checkpoint';
/** Checkpoints a run keeps by default (the newest and the two before it). */
export const DEFAULT_KEEP = 3;

export interface ManifestFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface CheckpointManifest {
  format: string;
  version: number;
  step: number;
  created: string;
  files: ManifestFile[];
}

export function stepDirName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

function parseStepDir(name: string): number | null {
  const m = /^step-(\d{8,})$/.exec(name);
  return m ? Number(m[1]) : null;
}

export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Writes the manifest of every regular file in `dir` (sizes and hashes as they are now). */
export function writeManifest(dir: string, step: number): CheckpointManifest {
  const files = fs
    .readdirSync(dir)
    .filter((n) => n !== MANIFEST_FILE && fs.statSync(path.join(dir, n)).isFile())
    .sort()
    .map((name) => {
      const f = path.join(dir, name);
      return { name, bytes: fs.statSync(f).size, sha256: sha256File(f) };
    });
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step,
    created: new Date().toISOString(),
    files,
  };
  writeFileDurable(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export type CheckpointCheck =
  { ok: true; dir: string; step: number; manifest: CheckpointManifest } | { ok: false; dir: string; reason: string };

/**
 * Checks that a checkpoint directory is complete: a manifest of this format and version, and every
 * file it names present with its size (and, with `hashes`, its SHA-256).
 */
export function verifyCheckpoint(dir: string, opts: { hashes?: boolean } = {}): CheckpointCheck {
  const fail = (reason: string): CheckpointCheck => ({ ok: false, dir, reason });
  const mf = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(dir)) return fail('does not exist');
  if (!fs.existsSync(mf)) return fail(`no ${MANIFEST_FILE} (incomplete, or written before checkpoints had one)`);
  let m: CheckpointManifest;
  try {
    m = JSON.parse(fs.readFileSync(mf, 'utf8'));
  } catch (e) {
    return fail(`${MANIFEST_FILE} is not valid JSON (${(e as Error).message})`);
  }
  if (m === null || typeof m !== 'object') return fail(`${MANIFEST_FILE} is not an object`);
  if (m.format !== CHECKPOINT_FORMAT) {
    return fail(`${MANIFEST_FILE}: format ${JSON.stringify(m.format)} is not ${JSON.stringify(CHECKPOINT_FORMAT)}`);
  }
  if (m.version !== CHECKPOINT_VERSION) {
    const which = typeof m.version === 'number' && m.version > CHECKPOINT_VERSION ? 'newer' : 'older';
    return fail(
      `${MANIFEST_FILE}: checkpoint format version ${JSON.stringify(m.version)} is ${which} than the version ` +
        `${CHECKPOINT_VERSION} this build reads`,
    );
  }
  if (!Number.isInteger(m.step) || m.step < 0)
    return fail(`${MANIFEST_FILE}: step ${JSON.stringify(m.step)} is invalid`);
  if (!Array.isArray(m.files)) return fail(`${MANIFEST_FILE}: "files" is not a list`);
  for (const f of m.files) {
    if (!f || typeof f.name !== 'string' || f.name.includes('/') || f.name.includes('\\') || f.name.startsWith('.')) {
      return fail(`${MANIFEST_FILE}: bad file entry ${JSON.stringify(f)}`);
    }
    const p = path.join(dir, f.name);
    if (!fs.existsSync(p)) return fail(`${f.name} is missing`);
    const size = fs.statSync(p).size;
    if (size !== f.bytes) return fail(`${f.name} has ${size} bytes, the manifest says ${f.bytes}`);
    if (opts.hashes !== false && sha256File(p) !== f.sha256) return fail(`${f.name} does not match its SHA-256`);
  }
  return { ok: true, dir, step: m.step, manifest: m };
}

/**
 * Writes a checkpoint directory as one unit: `fill` writes the files into a temporary sibling,
 * the manifest goes last, then the directory is fsynced and renamed to `dir`. An existing `dir`
 * is replaced (moved aside first, removed after).
 */
export function commitCheckpointDir(dir: string, step: number, fill: (tmp: string) => void): void {
  const parent = path.dirname(dir);
  mkdirDurable(parent);
  const tmp = tempSibling(dir);
  mkdirDurable(tmp);
  fill(tmp);
  writeManifest(tmp, step);
  fsyncDir(tmp);
  if (fs.existsSync(dir)) {
    const old = tempSibling(dir);
    renameDurable(dir, old);
    renameDurable(tmp, dir);
    removeDurable(old);
  } else {
    renameDurable(tmp, dir);
  }
}

/** Removes leftovers of interrupted saves (temporary names) in a run folder and its checkpoints/. */
export function removeStaleTemporaries(outDir: string): string[] {
  const removed: string[] = [];
  for (const d of [outDir, path.join(outDir, CHECKPOINTS_DIR)]) {
    if (!fs.existsSync(d)) continue;
    for (const name of fs.readdirSync(d)) {
      if (!isTempName(name)) continue;
      removeDurable(path.join(d, name));
      removed.push(path.join(d, name));
    }
  }
  return removed;
}

/** The step directories of a run, newest first. */
export function listRunCheckpoints(outDir: string): { dir: string; step: number }[] {
  const root = path.join(outDir, CHECKPOINTS_DIR);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .map((name) => ({ dir: path.join(root, name), step: parseStepDir(name) }))
    .filter((c): c is { dir: string; step: number } => c.step !== null)
    .sort((a, b) => b.step - a.step);
}

/**
 * Saves a run's checkpoint for `step` as checkpoints/step-NNNNNNNN/, points the `checkpoint`
 * symlink at it, and keeps only the newest `keep` step directories.
 */
export function saveRunCheckpoint(outDir: string, step: number, fill: (tmp: string) => void, keep: number): string {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keepCheckpoints must be an integer >= 1, got ${keep}`);
  removeStaleTemporaries(outDir);
  const name = stepDirName(step);
  const dir = path.join(outDir, CHECKPOINTS_DIR, name);
  commitCheckpointDir(dir, step, fill);
  const link = path.join(outDir, LATEST_LINK);
  const st = fs.lstatSync(link, { throwIfNoEntry: false });
  if (st && !st.isSymbolicLink()) {
    // A checkpoint/ folder of the layout before step directories: retire it behind the new link.
    const old = tempSibling(link);
    renameDurable(link, old);
    symlinkAtomic(path.join(CHECKPOINTS_DIR, name), link);
    removeDurable(old);
  } else {
    symlinkAtomic(path.join(CHECKPOINTS_DIR, name), link);
  }
  for (const c of listRunCheckpoints(outDir).slice(keep)) {
    // Renamed to a temporary first, so a crash mid-removal leaves no half-deleted step directory.
    const doomed = tempSibling(c.dir);
    renameDurable(c.dir, doomed);
    removeDurable(doomed);
  }
  return dir;
}

/**
 * The newest complete checkpoint of a run folder (or of `dir` itself when it is a checkpoint),
 * verifying manifests and hashes; `skipped` names the newer ones that did not verify and why.
 */
export function latestCheckpoint(outDir: string): {
  dir: string;
  step: number;
  skipped: { dir: string; reason: string }[];
} {
  const skipped: { dir: string; reason: string }[] = [];
  const candidates = listRunCheckpoints(outDir).map((c) => c.dir);
  const link = path.join(outDir, LATEST_LINK);
  const st = fs.lstatSync(link, { throwIfNoEntry: false });
  if (st && !st.isSymbolicLink()) candidates.push(link); // a folder of the older layout
  if (fs.existsSync(path.join(outDir, MANIFEST_FILE))) candidates.unshift(outDir);
  for (const dir of candidates) {
    const v = verifyCheckpoint(dir);
    if (v.ok) return { dir, step: v.step, skipped };
    const legacy = legacyStep(dir);
    if (legacy !== null) return { dir, step: legacy, skipped };
    skipped.push({ dir, reason: v.reason });
  }
  const why = skipped.map((s) => `  ${s.dir}: ${s.reason}`).join('\n');
  throw new Error(`${outDir}: no complete checkpoint to resume from${why ? `:\n${why}` : ''}`);
}

/**
 * The step of a checkpoint folder written before manifests existed (trainer_state.json beside the
 * weights, no manifest.json), or null. Such a folder is taken as is; Trainer.resume still checks
 * that its weights and state are from the same step.
 */
function legacyStep(dir: string): number | null {
  if (fs.existsSync(path.join(dir, MANIFEST_FILE))) return null;
  try {
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'trainer_state.json'), 'utf8')) as { step?: unknown };
    return Number.isInteger(s.step) ? (s.step as number) : null;
  } catch {
    return null;
  }
}
