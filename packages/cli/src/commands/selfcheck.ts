import { Command } from 'commander';

import { Backend, availableBackends, loadBackend, reference } from '@seed-diffusion/native';

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Max relative error of the backend's matmul against the float64 reference on an odd shape. */
function parity(b: Backend): number {
  const [M, N, K] = [37, 29, 71];
  const A = random(M * K, 1),
    B = random(N * K, 2);
  const C = b.f32(M * N);
  b.matmul(b.from(A), b.from(B), C, M, N, K, false, true);
  const want = reference.matmul(A, B, null, M, N, K, false, true);
  const got = C.toArray();
  let err = 0;
  for (let i = 0; i < want.length; i++)
    err = Math.max(err, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  return err;
}

/** GFLOP/s of an n×n×n matmul, best of a few timed runs after a warm-up. */
function gflops(b: Backend, n: number): number {
  const A = b.from(random(n * n, 3)),
    B = b.from(random(n * n, 4)),
    C = b.f32(n * n);
  b.matmul(A, B, C, n, n, n);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    b.matmul(A, B, C, n, n, n);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return (2 * n ** 3) / best / 1e9;
}

/** `seed-diffusion selfcheck`: which backend runs, kernel parity on each backend, and matmul speed. */
export function selfcheckCommand(): Command {
  return new Command('selfcheck')
    .description('check every available backend against the float64 reference and time a matmul')
    .option('-n, --size <n>', 'matmul size for the timing', '512')
    .action((opts: { size: string }) => {
      const n = Number(opts.size);
      if (!Number.isInteger(n) || n < 1 || n > 8192)
        throw new Error(`--size must be an integer in [1, 8192], got ${opts.size}`);
      const { report } = loadBackend();
      console.log(`chosen backend: ${report.chosen} (${report.reason})`);
      let ok = true;
      for (const b of availableBackends()) {
        const err = parity(b);
        const pass = err < 1e-4;
        ok &&= pass;
        console.log(
          `${b.name.padEnd(5)} [${b.buildInfo}] matmul parity max rel err ${err.toExponential(2)} ${pass ? 'ok' : 'FAIL'}; ` +
            `${n}x${n}x${n} matmul ${gflops(b, n).toFixed(1)} GFLOP/s on ${b.numThreads} thread(s)`,
        );
      }
      if (!ok) throw new Error('selfcheck failed: a backend disagrees with the reference');
    });
}
