import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Runs one untrusted program in its own process with:
 * - a wall-clock limit (SIGKILL to the process group and every process of the sandbox's user id),
 * - an address-space limit (prlimit --as; node also gets --max-old-space-size), a CPU-seconds backstop,
 *   a file-size limit and no core files,
 * - a process limit (prlimit --nproc). RLIMIT_NPROC is not enforced for root, so when we run as root
 *   the program runs as an unprivileged per-slot user id (setpriv), which also confines what it can touch,
 * - its own network namespace (unshare --net: only a downed loopback) and PID namespace (when the
 *   program's first process exits, the kernel kills everything it left behind, and nothing lingers
 *   as an unreaped zombie under our non-reaping init),
 * - a fresh scratch directory as cwd and HOME (deleted afterwards), a minimal environment,
 * - stdout/stderr captured up to a byte cap.
 * Without root or unshare, the missing parts are reported in `SandboxCapabilities.notes` and in every
 * result that records the capabilities.
 */

export type Runtime = 'python' | 'node';

export interface Program {
  runtime: Runtime;
  source: string;
}

export interface SandboxLimits {
  /** Wall-clock limit in milliseconds. */
  timeoutMs: number;
  /** Memory limit in MiB (address space for python; heap plus V8's reservations for node). */
  memoryMb: number;
  /** Processes and threads the program may have at once (node needs ~12 threads of its own). */
  maxProcs: number;
  /** Bytes of stdout and of stderr kept. */
  maxOutputBytes: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  timeoutMs: 10_000,
  memoryMb: 1024,
  maxProcs: 64,
  maxOutputBytes: 64 * 1024,
};

export interface SandboxCapabilities {
  root: boolean;
  /** unshare --net (and --pid) works: no network, no stray processes. */
  networkIsolated: boolean;
  /** Programs run as an unprivileged per-slot uid (root only), so --nproc is enforced. */
  uidDrop: boolean;
  prlimit: boolean;
  python: string | null;
  node: string;
  nodePath: string;
  notes: string[];
}

export type RunStatus = 'passed' | 'failed' | 'timeout';

export interface RunResult {
  status: RunStatus;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  ms: number;
}

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

let probed: SandboxCapabilities | undefined;

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

/** The python interpreter's real path: pyenv-style shims need the user's environment, the sandbox gives none. */
function resolvePython(): string | null {
  const forced = process.env.SD_EVAL_PYTHON;
  const r = spawnSync(forced || 'python3', ['-c', 'import sys; print(sys.executable)'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** Folders holding the packages JS benchmark tests require (lodash, js-md5), for the child's NODE_PATH. */
function nodePathForTests(): string {
  const dirs = new Set<string>();
  for (const pkg of ['lodash', 'js-md5']) {
    try {
      dirs.add(path.dirname(path.dirname(require.resolve(`${pkg}/package.json`))));
    } catch {
      // reported by the JS tests that need it, as a failed require
    }
  }
  return [...dirs].join(path.delimiter);
}

/** What this machine allows, probed once per process. */
export function probeSandbox(): SandboxCapabilities {
  if (probed) return probed;
  const root = process.getuid?.() === 0;
  const notes: string[] = [];
  const prlimit = works('prlimit', ['--as=1073741824', '--', 'true']);
  if (!prlimit) notes.push('prlimit unavailable: limits set with ulimit through sh');
  const unshareArgs = root ? ['--net', '--pid', '--fork'] : ['--net', '--pid', '--fork', '--map-root-user'];
  const networkIsolated = works('unshare', [...unshareArgs, '--', 'true']);
  if (!networkIsolated)
    notes.push('unshare --net --pid failed: programs run WITH network access and without a PID namespace');
  const uidDrop =
    root &&
    works('setpriv', [`--reuid=${SANDBOX_UID_BASE}`, `--regid=${SANDBOX_UID_BASE}`, '--clear-groups', '--', 'true']);
  if (!uidDrop)
    notes.push(
      root
        ? 'setpriv unavailable: programs run as root, where the process limit is not enforced'
        : "not root: programs run as this user; the process limit counts this user's other processes too",
    );
  const python = resolvePython();
  if (!python) notes.push('python3 not found: python programs cannot run');
  probed = {
    root,
    networkIsolated,
    uidDrop,
    prlimit,
    python,
    node: process.execPath,
    nodePath: nodePathForTests(),
    notes,
  };
  return probed;
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
async function killUid(uid: number): Promise<void> {
  for (let round = 0; round < 50; round++) {
    if (processesOfUid(uid).length === 0) return;
    spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'sh', '-c', 'kill -9 -1'], {
      stdio: 'ignore',
    });
    await sleep(20);
  }
}

function userProcessCount(): number {
  const uid = process.getuid?.();
  return uid === undefined ? 0 : processesOfUid(uid).length;
}

/** argv that runs `inner` under the limits and isolation this machine allows. */
function wrap(
  inner: string[],
  caps: SandboxCapabilities,
  limits: SandboxLimits,
  runtime: Runtime,
  uid: number,
): string[] {
  const mem = runtime === 'node' ? limits.memoryMb + 1024 : limits.memoryMb;
  // without a uid of its own, RLIMIT_NPROC counts all of this user's processes: allow for them
  const nproc = caps.uidDrop ? limits.maxProcs : userProcessCount() + limits.maxProcs;
  const cpu = Math.ceil(limits.timeoutMs / 1000) + 1;
  let cmd = inner;
  if (caps.uidDrop)
    cmd = ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--no-new-privs', '--', ...cmd];
  if (caps.prlimit) {
    cmd = [
      'prlimit',
      `--as=${mem * 1024 * 1024}`,
      `--nproc=${nproc}`,
      `--cpu=${cpu}`,
      `--fsize=${64 * 1024 * 1024}`,
      '--core=0',
      '--',
      ...cmd,
    ];
  } else {
    const script = `ulimit -v ${mem * 1024} && ulimit -u ${nproc} && ulimit -t ${cpu} && ulimit -c 0 && exec "$@"`;
    cmd = ['sh', '-c', script, 'sh', ...cmd];
  }
  if (caps.networkIsolated)
    cmd = ['unshare', '--net', '--pid', '--fork', ...(caps.root ? [] : ['--map-root-user']), '--', ...cmd];
  return cmd;
}

class CappedText {
  private chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;
  constructor(private cap: number) {}
  add(chunk: Buffer): void {
    const room = this.cap - this.kept;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    if (chunk.length > room) {
      this.truncated = true;
      chunk = chunk.subarray(0, room);
    }
    this.chunks.push(chunk);
    this.kept += chunk.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Run one program; `slot` picks the sandbox uid so parallel runs never touch each other's processes. */
export async function runProgram(
  program: Program,
  opts: { limits?: Partial<SandboxLimits>; slot?: number } = {},
): Promise<RunResult> {
  const limits: SandboxLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  if (!(limits.timeoutMs > 0))
    throw new Error(`runProgram: limits.timeoutMs must be positive, got ${limits.timeoutMs}`);
  if (!(limits.memoryMb >= 64))
    throw new Error(`runProgram: limits.memoryMb must be at least 64, got ${limits.memoryMb}`);
  const caps = probeSandbox();
  const uid = caps.uidDrop ? sandboxUid(opts.slot ?? 0) : -1;
  let inner: string[];
  let file: string;
  if (program.runtime === 'python') {
    if (!caps.python) throw new Error('runProgram: python3 was not found on this machine');
    file = 'main.py';
    inner = [caps.python, '-I', '-B', file];
  } else if (program.runtime === 'node') {
    file = 'main.js';
    inner = [caps.node, `--max-old-space-size=${Math.max(32, Math.floor(limits.memoryMb * 0.75))}`, file];
  } else {
    throw new Error(`runProgram: program.runtime must be "python" or "node", got ${JSON.stringify(program.runtime)}`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-eval-'));
  writeFileSync(path.join(dir, file), program.source);
  if (caps.uidDrop) {
    chownSync(dir, uid, uid);
    chownSync(path.join(dir, file), uid, uid);
  }
  const argv = wrap(inner, caps, limits, program.runtime, uid);
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    TMPDIR: dir,
    LANG: 'C.UTF-8',
    PYTHONHASHSEED: '0',
    PYTHONIOENCODING: 'utf-8',
    NODE_PATH: caps.nodePath,
  };
  const started = process.hrtime.bigint();
  const out = new CappedText(limits.maxOutputBytes);
  const err = new CappedText(limits.maxOutputBytes);
  try {
    const child = spawn(argv[0], argv.slice(1), { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c: Buffer) => out.add(c));
    child.stderr.on('data', (c: Buffer) => err.add(c));
    const closed = new Promise((r) => child.on('close', r));
    let timedOut = false;
    // One kill sweep per run, shared by the timer and the normal exit: a sweep started by the
    // timer and left running would otherwise outlive this run and SIGKILL the next program of
    // the same uid (seen as "unshare: sigprocmask unblock failed" after a fork bomb).
    let sweep: Promise<void> | undefined;
    const killAll = (): Promise<void> =>
      (sweep ??= (async () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        if (caps.uidDrop) await killUid(uid);
      })());
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    const timer = setTimeout(() => {
      timedOut = true;
      void killAll();
    }, limits.timeoutMs);
    let status: { code: number | null; signal: string | null };
    try {
      status = await exited;
    } finally {
      clearTimeout(timer);
    }
    await killAll();
    // a sweep that ran out of rounds while a fork bomb was still spawning: one more
    if (caps.uidDrop && processesOfUid(uid).length > 0) await killUid(uid);
    // wait for the pipes to drain; a leftover holding them open was killed above, so this is short
    await Promise.race([closed, sleep(1000)]);
    child.stdout.destroy();
    child.stderr.destroy();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const result: RunStatus = timedOut ? 'timeout' : status.code === 0 ? 'passed' : 'failed';
    return {
      status: result,
      exitCode: status.code,
      signal: status.signal,
      stdout: out.text(),
      stderr: err.text(),
      truncated: out.truncated || err.truncated,
      ms,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
