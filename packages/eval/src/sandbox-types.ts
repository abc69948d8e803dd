// What the sandbox runs, under which limits, and what it reports.
import type { FailureReason } from './outcome';

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
  /** Files and folders the program may create in each private scratch place (/tmp, /var/tmp, /dev/shm). */
  maxFiles: number;
  /** MiB of each private scratch place, and the largest file the program may write. */
  scratchMb: number;
  /** File descriptors open at once. */
  maxOpenFiles: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  timeoutMs: 10_000,
  memoryMb: 1024,
  maxProcs: 64,
  maxOutputBytes: 64 * 1024,
  maxFiles: 2048,
  scratchMb: 64,
  maxOpenFiles: 256,
};

/** An interpreter as measured inside the sandbox (what really runs the programs). */
export interface Interpreter {
  /** The command the sandbox runs. */
  command: string;
  /** sys.executable / process.execPath as the running program sees it. */
  executable: string;
  version: string;
  /** sys.prefix (python only). */
  prefix?: string;
}

export interface SandboxCapabilities {
  root: boolean;
  /** unshare --net --pid works: no network, and nothing a program starts outlives it. */
  networkIsolated: boolean;
  /**
   * A private mount namespace per run: own tmpfs /tmp, /var/tmp, /dev/shm, /run/lock (size and file
   * limits), own /proc of its PID namespace, `hidden` folders covered. False means programs see and
   * write the host's filesystem as their user may.
   */
  mountIsolated: boolean;
  /** The namespaces are entered through a user namespace (unprivileged evaluator). */
  userNamespace: boolean;
  /** Programs run as an unprivileged per-slot uid (root only), so --nproc is enforced. */
  uidDrop: boolean;
  prlimit: boolean;
  /** Folders programs cannot see (mountIsolated only). */
  hidden: string[];
  /** Paths under hidden folders given back read-only (the interpreters, the JS test packages). */
  exposed: string[];
  python: Interpreter | null;
  node: Interpreter;
  nodePath: string;
  notes: string[];
}

export type RunStatus = 'passed' | 'failed' | 'timeout';

export interface RunResult {
  status: RunStatus;
  /** Why it failed (null when it passed). */
  reason: FailureReason | null;
  /** The run's completion marker was printed: the program ran to its end. */
  completed: boolean;
  exitCode: number | null;
  signal: string | null;
  /** stdout without the completion marker. */
  stdout: string;
  stderr: string;
  truncated: boolean;
  ms: number;
}
