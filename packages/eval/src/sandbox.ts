// Runs one untrusted program in its own process and decides whether it passed.
//
// Isolation (see sandbox-setup.ts for the mounts, sandbox-probe.ts for what a machine allows):
// - its own mount, network, PID, IPC and UTS namespaces: private tmpfs /tmp, /var/tmp, /dev/shm,
//   /run/lock with size and file-count limits, a /proc of its own PID namespace, the project tree and
//   /root covered, only a downed loopback; when its first process exits the kernel kills everything it
//   left behind, and its files go with the mount namespace;
// - limits: wall clock (SIGKILL to the process group and, as root, to every process of the slot's uid),
//   address space, CPU seconds, processes, file size, open files, no core files;
// - as root it runs as an unprivileged per-slot uid (RLIMIT_NPROC is not enforced for root) with an
//   empty capability bounding set; unprivileged evaluators get the same through a user namespace.
//
// Pass means the program ran to its end: the sandbox appends an epilogue that reads a per-run random
// marker from file descriptor 3 (an open, already unlinked file) and prints it. The marker is never in the source (a program that reads
// its own file learns nothing), so a program that exits early (sys.exit(0), os._exit(0),
// process.exit(0)), is killed, or dies of an error before its tests return is not passed, whatever its
// exit code. Appended after the tests, this is the reference harnesses' rule that the tests must run.
// (Code in the same process could still find the marker by reading fd 3 itself; that is deliberate
// tampering with the harness, not an accident of an answer, and is recorded as a known limit.)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { failureReason } from './outcome';
import { sandboxSetup } from './sandbox-probe';
import { READY_LINE, sandboxArgv, withFiles } from './sandbox-setup';
import { DEFAULT_LIMITS, Program, RunResult, RunStatus, SandboxLimits } from './sandbox-types';
import { killUid, processesOfUid, sandboxUid, userProcessCount } from './sandbox-uid';

export * from './sandbox-types';
export { probeSandbox, hiddenPaths } from './sandbox-probe';
export { SANDBOX_UID_BASE, processesOfUid, sandboxUid } from './sandbox-uid';

/** Python epilogue: flush what the tests printed, then copy the marker from fd 3 to stdout. */
const PY_EPILOGUE =
  '\n\nimport os as _sd_os, sys as _sd_sys\n_sd_sys.stdout.flush()\n_sd_os.write(1, b"\\n" + _sd_os.read(3, 256) + b"\\n")\n';
/** Node epilogue (stdout to a pipe is synchronous on Linux, so it follows everything printed before). */
const JS_EPILOGUE =
  "\n;(function () { var fs = require('fs'); var b = Buffer.alloc(256); var n = fs.readSync(3, b, 0, 256, null); fs.writeSync(1, '\\n' + b.toString('latin1', 0, n) + '\\n'); })();\n";

/** The source the sandbox runs for `program`: the program, then the completion epilogue. */
export function withEpilogue(program: Program): string {
  return program.source + (program.runtime === 'python' ? PY_EPILOGUE : JS_EPILOGUE);
}

class CappedText {
  private chunks: Buffer[] = [];
  private kept = 0;
  private last = Buffer.alloc(0);
  truncated = false;
  constructor(private cap: number) {}
  add(chunk: Buffer): void {
    // the last bytes are kept apart from the cap: the completion marker is found even after a flood
    this.last = Buffer.concat([this.last, chunk]).subarray(-512);
    const room = this.cap - this.kept;
    if (room <= 0) {
      this.truncated = chunk.length > 0 || this.truncated;
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
  tail(): string {
    return this.last.toString('latin1');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  for (const k of ['maxFiles', 'scratchMb', 'maxOpenFiles', 'maxProcs'] as const)
    if (!Number.isInteger(limits[k]) || limits[k] < 1)
      throw new Error(`runProgram: limits.${k} must be a positive integer, got ${limits[k]}`);
  const { caps, iso } = sandboxSetup();
  const uid = caps.uidDrop ? sandboxUid(opts.slot ?? 0) : null;
  let inner: string[];
  let memoryMb = limits.memoryMb;
  if (program.runtime === 'python') {
    if (!caps.python) throw new Error(`runProgram: python cannot run here (${caps.notes.join('; ')})`);
    inner = [caps.python.command, '-I', '-B', 'main.py'];
  } else if (program.runtime === 'node') {
    inner = [caps.node.command, `--max-old-space-size=${Math.max(32, Math.floor(limits.memoryMb * 0.75))}`, 'main.js'];
    memoryMb += 1024; // V8 reserves address space well beyond its heap
  } else {
    throw new Error(`runProgram: program.runtime must be "python" or "node", got ${JSON.stringify(program.runtime)}`);
  }
  const file = inner[inner.length - 1];
  const marker = `sd-eval-done:${randomBytes(16).toString('hex')}`;
  const host = iso.mountIsolated ? null : mkdtempSync(path.join(os.tmpdir(), 'sd-eval-'));
  const work = host ?? `/tmp/sd-eval-${randomBytes(6).toString('hex')}`;
  if (host && uid !== null) chownSync(host, uid, uid);
  const argv = sandboxArgv(inner, iso, { ...limits, memoryMb }, uid, work, file, userProcessCount());
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: work,
    TMPDIR: work,
    LANG: 'C.UTF-8',
    PYTHONHASHSEED: '0',
    PYTHONIOENCODING: 'utf-8',
    NODE_PATH: caps.nodePath,
  };
  const started = process.hrtime.bigint();
  const out = new CappedText(limits.maxOutputBytes);
  const err = new CappedText(limits.maxOutputBytes + READY_LINE.length + 1);
  try {
    // the marker (fd 3) and the source (fd 4) are open files, not pipes: the child reads them whole
    // even while this thread is busy (a model generating the next sample), and no copy stays on disk
    const child = withFiles([marker, withEpilogue(program)], ([markerFd, sourceFd]) =>
      spawn(argv[0], argv.slice(1), {
        cwd: host ?? '/',
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe', markerFd, sourceFd],
      }),
    );
    child.stdout!.on('data', (c: Buffer) => out.add(c));
    child.stderr!.on('data', (c: Buffer) => err.add(c));
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
        if (uid !== null) await killUid(uid);
      })());
    let hasExited = false;
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        hasExited = true;
        resolve({ code, signal });
      });
    });
    // The limit is decided one loop turn after the timer: when the event loop was blocked (a model
    // generating the next sample in this thread), the timer and the child's exit are both pending, and
    // timers run first; the exit, read in the poll phase, then comes before this check.
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (hasExited) return;
          timedOut = true;
          void killAll();
        }),
      limits.timeoutMs,
    );
    let status: { code: number | null; signal: string | null };
    try {
      status = await exited;
    } finally {
      clearTimeout(timer);
    }
    await killAll();
    // a sweep that ran out of rounds while a fork bomb was still spawning: one more
    if (uid !== null && processesOfUid(uid).length > 0) await killUid(uid);
    // wait for the pipes to drain; a leftover holding them open was killed above, so this is short
    await Promise.race([closed, sleep(1000)]);
    child.stdout!.destroy();
    child.stderr!.destroy();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    let stderr = err.text();
    const ready = stderr.startsWith(`${READY_LINE}\n`);
    if (ready) stderr = stderr.slice(READY_LINE.length + 1);
    else if (!timedOut)
      throw new Error(
        `runProgram: the sandbox could not be set up (exit ${status.code ?? status.signal}): ${stderr.trim().slice(0, 500)}`,
      );
    // unshare --fork re-raises the signal that killed the program on itself, except SIGKILL, which it
    // cannot re-raise: it then exits 1 with this message (e.g. after RLIMIT_CPU's hard limit)
    const UNSHARE_SIGKILL = /unshare: sigprocmask unblock failed: Invalid argument\n?$/;
    if (status.code === 1 && UNSHARE_SIGKILL.test(stderr)) {
      status = { code: null, signal: 'SIGKILL' };
      stderr = stderr.replace(UNSHARE_SIGKILL, '');
    }
    const suffix = `\n${marker}\n`;
    const completed = out.tail().endsWith(suffix);
    let stdout = out.text();
    if (completed && stdout.endsWith(suffix)) stdout = stdout.slice(0, -suffix.length);
    const reason = failureReason(
      { timedOut, timeoutMs: limits.timeoutMs, exitCode: status.code, signal: status.signal, completed, stderr },
      program.runtime,
    );
    const result: RunStatus = timedOut ? 'timeout' : reason === null ? 'passed' : 'failed';
    return {
      status: result,
      reason,
      completed,
      exitCode: status.code,
      signal: status.signal,
      stdout,
      stderr,
      truncated: out.truncated || err.truncated,
      ms,
    };
  } finally {
    if (host) rmSync(host, { recursive: true, force: true });
  }
}
