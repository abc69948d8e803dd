// Per-slot sandbox user ids (root only): programs of one slot run as one uid, so every process a
// program leaves behind can be found and killed by uid without touching anything else.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** First uid of the sandbox users; each slot of each evaluating process claims one of them. */
export const SANDBOX_UID_BASE = 61000;
const SANDBOX_UID_COUNT = 4000;
const claimed = new Map<number, number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The uid a slot runs its programs as. Claimed with a lock file so that two evaluations on one machine
 * never share a uid (cleaning up after a program kills every process of its uid). Stale locks of dead
 * processes are taken over.
 */
export function sandboxUid(slot: number): number {
  const have = claimed.get(slot);
  if (have !== undefined) return have;
  const dir = path.join(os.tmpdir(), 'sd-eval-uid-locks');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let uid = SANDBOX_UID_BASE; uid < SANDBOX_UID_BASE + SANDBOX_UID_COUNT; uid++) {
    const lock = path.join(dir, String(uid));
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
    } catch {
      let owner: number;
      try {
        owner = Number(readFileSync(lock, 'utf8'));
      } catch {
        continue;
      }
      if (owner === process.pid || !Number.isInteger(owner) || alive(owner)) continue;
      try {
        rmSync(lock, { force: true });
        writeFileSync(lock, String(process.pid), { flag: 'wx' });
      } catch {
        continue;
      }
    }
    if (processesOfUid(uid).length > 0) continue; // someone else's leftovers: leave that uid alone
    claimed.set(slot, uid);
    if (claimed.size === 1)
      process.once('exit', () => {
        for (const u of claimed.values()) rmSync(path.join(dir, String(u)), { force: true });
      });
    return uid;
  }
  throw new Error(`sandboxUid: no free sandbox uid in [${SANDBOX_UID_BASE}, ${SANDBOX_UID_BASE + SANDBOX_UID_COUNT})`);
}

/** Live (non-zombie) processes owned by uid, from /proc. */
export function processesOfUid(uid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const u = /^Uid:\s+(\d+)/m.exec(status);
      const st = /^State:\s+(\S)/m.exec(status);
      if (u && Number(u[1]) === uid && st && st[1] !== 'Z') pids.push(Number(name));
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGKILL every process of a sandbox uid (kill -1 as that uid reaches exactly its own processes). */
export async function killUid(uid: number): Promise<void> {
  for (let round = 0; round < 50; round++) {
    if (processesOfUid(uid).length === 0) return;
    spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'sh', '-c', 'kill -9 -1'], {
      stdio: 'ignore',
    });
    await sleep(20);
  }
}

/** Processes of the evaluating user (RLIMIT_NPROC counts them too when programs keep our uid). */
export function userProcessCount(): number {
  const uid = process.getuid?.();
  return uid === undefined ? 0 : processesOfUid(uid).length;
}
