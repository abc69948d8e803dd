// CUDA backend. On a machine where no CUDA device answers (CI, this project's build
// machine) it states that explicitly and checks that SD_BACKEND=cuda fails with the clear
// message; where a GPU answers it runs every op's parity against the CPU backend on fresh
// random inputs with odd shapes (test/cuda-parity.ts states each tolerance).
import { CudaBackend, availableBackends, loadBackend, resetBackend } from '../lib';
import { runCudaParity } from './cuda-parity';

function tryCuda(): { backend?: CudaBackend; reason: string } {
  resetBackend();
  try {
    const { backend } = loadBackend('cuda');
    return { backend: backend as CudaBackend, reason: '' };
  } catch (e) {
    return { reason: (e as Error).message };
  } finally {
    resetBackend();
  }
}

const probe = tryCuda();

// Where no device answers, the device tests are declared skipped with the reason (the test
// summary lists it), not left out: the skip count says what this machine did not check.
const gpuTest: (name: string, fn: () => void) => void = probe.backend
  ? test
  : (name, fn) =>
      test.skip(
        `${name} [skipped: CUDA cannot be used here: ${probe.reason.replace(/^SD_BACKEND=cuda cannot be used: /, '')}]`,
        fn,
      );

describe('cuda backend', () => {
  if (!probe.backend) {
    test('without a CUDA device, SD_BACKEND=cuda fails with a message that says why', () => {
      expect(probe.reason).toMatch(/^SD_BACKEND=cuda cannot be used: /);
      expect(probe.reason).toMatch(/addon|CUDA|device|driver/);
      // auto never picks CUDA here and still gives a working backend.
      resetBackend();
      const { report } = loadBackend('auto');
      expect(report.chosen).not.toBe('cuda');
      expect(report.cuda.devices).toBe(0);
      resetBackend();
    });
  }

  const gpu = probe.backend as CudaBackend;
  const cpu = availableBackends().find((b) => b.name === 'cpu');

  gpuTest('tensors live on the device: no host view, read/write copy', () => {
    const t = gpu.from(new Float32Array([1, 2, 3, 4.5]));
    expect(() => t.data).toThrow(/device memory/);
    expect(Array.from(t.toArray())).toEqual([1, 2, 3, 4.5]);
    gpu.write(t, [9], 2);
    expect(Array.from(t.slice(1, 3).toArray())).toEqual([2, 9, 4.5]);
    gpu.free(t);
  });

  gpuTest('a bad id is reported at the next sync, naming the op', () => {
    const ids = gpu.from(new Int32Array([0, 7]));
    const table = gpu.f32(3 * 2),
      out = gpu.f32(2 * 2);
    gpu.embeddingFwd(ids, table, out, 2, 3, 2);
    expect(() => gpu.read(out)).toThrow(/embedding_fwd: ids\[1\] = 7/);
  });

  gpuTest('every op matches the CPU backend on random odd shapes', () => {
    if (!cpu) throw new Error('the CPU addon is needed as the reference');
    const res = runCudaParity(gpu, cpu, 12345);
    const bad = res.filter((r) => !r.skipped && !r.ok);
    console.log(
      res
        .map(
          (r) =>
            `${r.ok ? 'ok ' : r.skipped ? 'skip' : 'BAD'} ${r.op} ${r.label} ${r.output} err ${r.err.toExponential(2)} tol ${r.tol}${r.skipped ? ` (${r.skipped})` : ''}`,
        )
        .join('\n'),
    );
    expect(bad).toEqual([]);
  });
});
