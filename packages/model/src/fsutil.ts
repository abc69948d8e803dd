// Crash-consistent file writes. A file is written under a temporary sibling, fsynced, then renamed
// over the target and its directory fsynced, so a crash never leaves a half-written file under the
// real name. Every step goes through `step()`, where a test can inject a fault (the
// kill-at-every-write-point harness of the checkpoint tests).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The kinds of filesystem step a save is made of. */
export type FsStep = 'mkdir' | 'open' | 'write' | 'fsync' | 'close' | 'rename' | 'symlink' | 'rm' | 'fsync-dir';

type FaultHook = (step: FsStep, target: string) => void;
let faultHook: FaultHook | null = null;

/**
 * Test hook: called before every filesystem step of a save; throwing from it simulates a crash at
 * that point (nothing after it runs, no cleanup is attempted). Pass null to remove it.
 */
export function setFsFaultHook(hook: FaultHook | null): void {
  faultHook = hook;
}

function step(kind: FsStep, target: string): void {
  if (faultHook) faultHook(kind, target);
}

/** Makes a directory (and its parents). */
export function mkdirDurable(dir: string): void {
  step('mkdir', dir);
  fs.mkdirSync(dir, { recursive: true });
}

/** fsyncs a directory so that the names created, renamed or removed in it survive a crash. */
export function fsyncDir(dir: string): void {
  step('fsync-dir', dir);
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch {
    return; // a platform that cannot open directories: nothing to sync
  }
  try {
    fs.fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on directories; the rename itself is still atomic
  } finally {
    fs.closeSync(fd);
  }
}

function toParts(data: string | Uint8Array | Uint8Array[]): Uint8Array[] {
  return Array.isArray(data) ? data : [typeof data === 'string' ? Buffer.from(data, 'utf8') : data];
}

/**
 * Writes `file` in place and fsyncs it (no rename): for files inside a directory that is itself
 * still a temporary (a checkpoint being assembled), where the directory's rename is the commit.
 */
export function writeFileDurable(file: string, data: string | Uint8Array | Uint8Array[]): void {
  step('open', file);
  const fd = fs.openSync(file, 'w');
  try {
    for (const p of toParts(data)) {
      step('write', file);
      let off = 0;
      while (off < p.length) off += fs.writeSync(fd, p, off, p.length - off);
    }
    step('fsync', file);
    fs.fsyncSync(fd);
  } finally {
    step('close', file);
    fs.closeSync(fd);
  }
}

let tmpCounter = 0;
/** A unique temporary name next to `target` (same directory, so a rename is atomic). */
export function tempSibling(target: string): string {
  return `${target}.tmp-${process.pid}-${Date.now().toString(36)}-${tmpCounter++}`;
}

/** True for a name made by tempSibling (a leftover of an interrupted write). */
export function isTempName(name: string): boolean {
  return /\.tmp-\d+-[0-9a-z]+-\d+$/.test(name);
}

/** Writes a temporary sibling, fsyncs it, renames it over `file`, and fsyncs the directory. */
export function writeFileAtomic(file: string, data: string | Uint8Array | Uint8Array[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempSibling(file);
  try {
    writeFileDurable(tmp, data);
  } catch (e) {
    if (!(e instanceof SimulatedCrash)) fs.rmSync(tmp, { force: true });
    throw e;
  }
  renameDurable(tmp, file);
}

/** Renames `from` to `to` (atomic within a filesystem) and fsyncs the target's directory. */
export function renameDurable(from: string, to: string): void {
  step('rename', to);
  fs.renameSync(from, to);
  fsyncDir(path.dirname(to));
}

/** Points the symlink `link` at `target` atomically (a temporary link renamed over it). */
export function symlinkAtomic(target: string, link: string): void {
  const tmp = tempSibling(link);
  step('symlink', tmp);
  fs.symlinkSync(target, tmp);
  renameDurable(tmp, link);
}

/** Removes a file or a directory tree (a missing one is fine). */
export function removeDurable(p: string): void {
  step('rm', p);
  fs.rmSync(p, { recursive: true, force: true });
}

/** What the fault hook throws in tests: a crash, so savers must not try to clean up after it. */
export class SimulatedCrash extends Error {
  constructor(
    readonly at: FsStep,
    readonly target: string,
  ) {
    super(`simulated crash before ${at} ${target}`);
    this.name = 'SimulatedCrash';
  }
}
