// Running many small Python jobs in the sandbox in batches: one sandboxed process executes a batch of
// jobs, each in a fresh namespace, and prints one JSON line per job. Batching is what makes verifying
// 100k tasks take seconds rather than an hour of interpreter start-ups; every job still runs in the
// sandbox (its limits apply to the batch), and a job that raises only fails itself.
import os from 'node:os';

import { Pool, type SandboxLimits, runProgram } from '@seed-diffusion/eval';

/** Outputs of `entry(*args)` for each input (Python repr, or null where the call raised). */
export interface OutputJob {
  code: string;
  entry: string;
  inputs: string[];
}

/** Whether `code` + `test` + `check(entry)` runs without an exception. */
export interface CheckJob {
  code: string;
  test: string;
  entry: string;
}

const OUTPUTS_MAIN = `
import json, sys
for job in json.loads(JOBS):
    g = {}
    try:
        exec(job["code"], g)
        f = g[job["entry"]]
    except BaseException as e:
        print(json.dumps(None)); continue
    outs = []
    for a in job["inputs"]:
        try:
            outs.append(repr(f(eval(a))))
        except BaseException:
            outs.append(None)
    print(json.dumps(outs))
`;

const CHECK_MAIN = `
import json
for job in json.loads(JOBS):
    g = {}
    try:
        exec(job["code"] + "\\n\\n" + job["test"] + "\\n", g)
        g["check"](g[job["entry"]])
        print(json.dumps(True))
    except BaseException:
        print(json.dumps(False))
`;

export interface BatchOptions {
  batchSize?: number;
  concurrency?: number;
  limits?: Partial<SandboxLimits>;
  onProgress?: (done: number, total: number) => void;
}

async function runBatches<J, R>(jobs: readonly J[], main: string, o: BatchOptions): Promise<R[]> {
  const size = o.batchSize ?? 250;
  const pool = new Pool(o.concurrency ?? Math.max(1, os.cpus().length));
  const out: R[] = new Array(jobs.length);
  let done = 0;
  const batches: number[] = [];
  for (let i = 0; i < jobs.length; i += size) batches.push(i);
  await Promise.all(
    batches.map((start) =>
      pool.run(async (slot) => {
        const part = jobs.slice(start, start + size);
        // a JSON string literal is a valid Python string literal
        const source = `JOBS = ${JSON.stringify(JSON.stringify(part))}\n${main}`;
        const r = await runProgram(
          { runtime: 'python', source },
          { slot, limits: { timeoutMs: 120_000, maxOutputBytes: 64 * 1024 * 1024, ...o.limits } },
        );
        const lines = r.stdout.split('\n').filter((l) => l.length > 0);
        if (r.status !== 'passed' || lines.length !== part.length) {
          throw new Error(
            `sandbox batch of ${part.length} jobs ${r.status} (exit ${r.exitCode}, ${lines.length} results): ${r.stderr.slice(-400)}`,
          );
        }
        lines.forEach((l, i) => (out[start + i] = JSON.parse(l) as R));
        done += part.length;
        o.onProgress?.(done, jobs.length);
      }),
    ),
  );
  return out;
}

/** Reference outputs per job and input (null: the call raised; a null row: the code did not load). */
export function runOutputs(
  jobs: readonly OutputJob[],
  o: BatchOptions = {},
): Promise<Array<Array<string | null> | null>> {
  return runBatches(jobs, OUTPUTS_MAIN, o);
}

/** True where the job's tests pass. */
export function runChecks(jobs: readonly CheckJob[], o: BatchOptions = {}): Promise<boolean[]> {
  return runBatches(jobs, CHECK_MAIN, o);
}
