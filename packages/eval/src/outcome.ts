// Why a program failed, read from how it ended: the per-sample reason recorded next to every score.

/**
 * - assertion: a test's assertion failed (Python AssertionError, JS console.assert / assert module /
 *   MBXP's thrown "Error at Nth assert statement");
 * - exception: any other uncaught error (detail: its type, e.g. NameError, SyntaxError, TypeError);
 * - early-exit: the process exited before the tests ran to the end (sys.exit, os._exit,
 *   process.exit, exit code 0 or not), i.e. without printing the run's completion marker;
 * - timeout: still running at the wall-clock limit (killed);
 * - killed: ended by a signal (memory limit of V8, CPU-time limit, a signal it sent itself);
 * - exit-code: the tests finished, but the process still exited non-zero (e.g. a failing atexit hook).
 */
export type FailureKind = 'assertion' | 'exception' | 'early-exit' | 'timeout' | 'killed' | 'exit-code';

export interface FailureReason {
  kind: FailureKind;
  detail: string;
}

export interface Ending {
  timedOut: boolean;
  timeoutMs: number;
  exitCode: number | null;
  signal: string | null;
  /** The completion marker was the program's last output: its tests returned. */
  completed: boolean;
  stderr: string;
}

/** The error type a Python traceback ends with (the last `Name: message` / `Name` line), or null. */
function pythonError(stderr: string): { type: string; message: string } | null {
  let found: { type: string; message: string } | null = null;
  const re = /^(?:[A-Za-z_]\w*\.)*((?:[A-Z]\w*)?(?:Error|Exception|Exit|Interrupt|Warning))(?::\s?(.*))?$/gm;
  for (let m = re.exec(stderr); m; m = re.exec(stderr)) found = { type: m[1], message: m[2] ?? '' };
  return found;
}

/** The error a Node.js program died of: the first `Type: message` line at column 0, or a thrown value. */
function nodeError(stderr: string): { type: string; message: string } | null {
  const m = /^((?:[A-Z]\w*)?(?:Error|Exception))(?: \[\w+\])?(?::\s?(.*))?$/m.exec(stderr);
  if (m) return { type: m[1], message: m[2] ?? '' };
  // `throw "text"` prints the value on the line before node's --trace-uncaught hint
  const t = /^(.*)\n\(Use `node --trace-uncaught/m.exec(stderr);
  if (t) return { type: 'thrown value', message: t[1] };
  if (/heap out of memory/.test(stderr)) return { type: 'out of memory', message: '' };
  return null;
}

const clip = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** The reason a run failed, or null when it passed (exit code 0 and its tests ran to the end). */
export function failureReason(e: Ending, runtime: 'python' | 'node'): FailureReason | null {
  if (e.timedOut) return { kind: 'timeout', detail: `still running after ${e.timeoutMs} ms` };
  const err = runtime === 'python' ? pythonError(e.stderr) : nodeError(e.stderr);
  if (e.signal) {
    const why = err?.type === 'out of memory' ? ' (out of memory)' : '';
    return { kind: 'killed', detail: `signal ${e.signal}${why}` };
  }
  if (e.exitCode === 0) {
    if (e.completed) return null;
    return { kind: 'early-exit', detail: 'exit code 0 before the tests finished' };
  }
  if (err && err.type !== 'SystemExit') {
    const assertion =
      err.type === 'AssertionError' ||
      /^Assertion failed/.test(err.message) ||
      (err.type === 'thrown value' && /assert/i.test(err.message));
    return {
      kind: assertion ? 'assertion' : 'exception',
      detail: clip(err.message ? `${err.type}: ${err.message}` : err.type),
    };
  }
  if (e.completed) return { kind: 'exit-code', detail: `exit code ${e.exitCode} after the tests finished` };
  return { kind: 'early-exit', detail: `exit code ${e.exitCode} before the tests finished` };
}
