// The sealed native boundary, tried as an adversary would: forged Tensor objects (short storage,
// made-up or freed WASM addresses, out-of-range views) through every public path, and raw kernel
// calls that bypass the TypeScript checks with one short, forged or freed buffer at a time for
// every buffer argument of every op. Every call must be a clear error — never a crash, never a
// write outside an allocation (canary buffers around the work are checked untouched).
import { Backend, RawKernels, Tensor, pagedSeqTable } from '../lib';
import { backends, randInt, randn } from './helpers';

type Raw = Record<string, (...a: unknown[]) => unknown>;
const kernelsOf = (b: Backend): Raw => (b as unknown as { k: RawKernels }).k as unknown as Raw;

/** Calls every op once with small valid tensors. */
function exercise(b: Backend): void {
  const f = (n: number, seed = n) => b.from(randn(n, seed));
  const [M, N, K] = [3, 5, 4];
  b.matmul(f(M * K), f(K * N), b.f32(M * N), M, N, K);
  if (b.has('matmul_w16'))
    b.matmulW16(f(M * K), b.from(new Uint16Array(K * N).fill(0x3c00)), b.f32(M * N), M, N, K, false, false, 'f16');
  b.rmsnormFwd(f(12), f(4), b.f32(12), b.f32(3), 3, 4, 1e-5);
  b.rmsnormBwd(f(12), f(4), f(3), f(12), b.f32(12), b.f32(4), 3, 4);
  b.addBias(f(12), f(4), 3, 4);
  b.biasGrad(f(12), b.f32(4), 3, 4);
  b.add(f(8), f(8), b.f32(8), 8);
  b.scale(f(8), 2, 8);
  b.axpy(2, f(8), f(8), 8);
  b.sumsq(f(8), 8);
  b.embeddingFwd(b.from(randInt(3, 1, 0, 6)), f(24), b.f32(12), 3, 6, 4);
  b.embeddingBwd(b.from(randInt(3, 1, 0, 6)), f(12), b.f32(24), 3, 6, 4);
  b.rope(f(3 * 2 * 4), b.from(randInt(3, 2, 0, 9)), 3, 2, 4, 4, 10000);
  const shape = { Tq: 4, Tk: 4, Hq: 2, Hkv: 1, D: 4, mask: 'causal' as const };
  b.attentionFwd(f(32), f(16), f(16), b.f32(32), b.f32(8), shape);
  b.attentionBwd(f(32), f(16), f(16), f(32), f(8), f(32), b.f32(32), b.f32(16), b.f32(16), shape);
  b.swigluFwd(f(8), f(8), b.f32(8), 8);
  b.swigluBwd(f(8), f(8), f(8), b.f32(8), b.f32(8), 8);
  b.xent(f(12), b.from(randInt(3, 3, 0, 4)), b.from(new Float32Array(3).fill(1)), b.f32(3), b.f32(12), 3, 4, -1);
  b.adamw(f(8), f(8), b.f32(8), b.f32(8), 8, { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, step: 1 });
  b.kvAppend(b.f32(8 * 4), f(8), 2, 2, 4, 8);
  b.kvScatter(b.f32(8 * 4), f(8), b.from(new Int32Array([5, 1])), 2, 4, 8);
  // Paged attention: two sequences over pages of 64 rows, the second's 70 keys on two pages (so
  // a one-entry page table, like every other short buffer, is too short for the call).
  const [P, Hq, Hkv, D] = [64, 2, 1, 4];
  const seqs = pagedSeqTable(
    [
      { q0: 0, Tq: 2, Tk: 3, mask: 'prefix', qOffset: 1, page0: 0 },
      { q0: 2, Tq: 2, Tk: 70, mask: 'prefix', qOffset: 68, page0: 1 },
    ],
    { N: 4, pages: 3, pageSize: P },
  );
  b.attentionPagedFwd(
    f(4 * Hq * D),
    f(3 * P * Hkv * D),
    f(3 * P * Hkv * D, 7),
    b.f32(4 * Hq * D),
    b.from(seqs),
    b.from(new Int32Array([2, 0, 1])),
    { N: 4, S: 2, Hq, Hkv, D, pageSize: P, poolPages: 3 },
  );
  b.decodeRows(
    f(12),
    3,
    4,
    { temperature: 1 },
    b.from(new Float32Array([0.1, 0.5, 0.9])),
    b.i32(3),
    b.f32(3),
    b.f32(3),
    b.f32(3),
  );
}

const NOT_OPS = new Set(['build_info', 'cpu_isa', 'cuda_info', 'get_num_threads', 'set_num_threads']);

/** The raw arguments of each op's first call while `exercise` runs. */
function captureRawCalls(b: Backend): Map<string, unknown[]> {
  const k = kernelsOf(b);
  const seen = new Map<string, unknown[]>();
  const orig: Raw = { ...k };
  for (const op of Object.keys(orig)) {
    // Not ops of the table: the addon's housekeeping (a variant backend calls cpu_isa to select
    // its ISA before each op).
    if (NOT_OPS.has(op)) continue;
    k[op] = (...args: unknown[]) => {
      if (!seen.has(op)) seen.set(op, [...args]);
      return orig[op](...args);
    };
  }
  try {
    exercise(b);
  } finally {
    Object.assign(k, orig);
  }
  return seen;
}

const isBuffer = (v: unknown) => ArrayBuffer.isView(v);

describe.each(backends())('%s backend', (name, b) => {
  // The addon's ISA variants ("cpu/avx2", ...) are the same typed-array boundary as "cpu".
  const isCpu = name === 'cpu' || name.startsWith('cpu/');
  // Canaries: allocations around the work that no call may change.
  const canaries = Array.from({ length: 8 }, (_, i) => b.from(new Float32Array(64).fill(1000 + i)));
  const canariesIntact = () => canaries.every((c, i) => (b.read(c) as Float32Array).every((v) => v === 1000 + i));

  test('raw calls with a short, forged or freed buffer in each buffer argument of every op are errors', () => {
    const calls = captureRawCalls(b);
    expect(calls.size).toBe(b.has('matmul_w16') ? 23 : 22);
    // Which argument positions are buffers: typed arrays on the addon; on WASM the same positions
    // (the argument order is the op table's, shared by both).
    const cpuPositions = (() => {
      const cpu = backends().find(([n]) => n === 'cpu')?.[1];
      return cpu ? captureRawCalls(cpu) : null;
    })();
    const k = kernelsOf(b);
    let total = 0;
    const silent: string[] = [];
    for (const [op, args] of calls) {
      const positions = (cpuPositions?.get(op) ?? args).map((v, i) => (isBuffer(v) ? i : -1)).filter((i) => i >= 0);
      if (name === 'wasm' && !cpuPositions) continue; // positions unknown without the addon
      expect(positions.length).toBeGreaterThan(0);
      for (const i of positions) {
        const orig = args[i];
        const dtype = isCpu ? (orig instanceof Int32Array ? 'i32' : orig instanceof Uint16Array ? 'u16' : 'f32') : null;
        const freed = b.alloc(dtype ?? 'f32', 64);
        const freedHandle = freed.handle;
        b.free(freed);
        const Ctor = (orig as Float32Array).constructor as new (n: number) => ArrayBufferView;
        const variants: [string, unknown][] = isCpu
          ? [
              ['one element', new Ctor(1)],
              ['empty', new Ctor(0)],
              ['wrong type', orig instanceof Float32Array ? new Int32Array(4096) : new Float32Array(4096)],
              ['a number', 12345],
            ]
          : [
              ['one element', b.alloc('f32', 1).handle],
              ['a made-up address', 8],
              ['an unaligned address', (orig as number) + 1],
              ['past its allocation', (orig as number) + (1 << 20)],
              ['freed', freedHandle],
              ['negative', -64],
            ];
        for (const [what, v] of variants) {
          if (orig === null && what !== 'one element') continue;
          const forged = [...args];
          forged[i] = v;
          total++;
          let threw: Error | null = null;
          try {
            k[op](...forged);
          } catch (e) {
            threw = e as Error;
          }
          if (
            !threw ||
            !/must be|holds \d+ elements but the call needs|not inside a live allocation|aligned address|is null/.test(
              threw.message,
            )
          ) {
            // A nullable argument given a short buffer with nothing to write is still refused; an
            // accepted call is a silent one.
            silent.push(`${op} arg ${i} ${what}: ${threw ? threw.message : 'accepted'}`);
          }
        }
      }
    }
    console.log(`${name}: ${total} raw calls with a bad buffer, ${total - silent.length} clear errors, 0 crashes`);
    expect(silent).toEqual([]);
    expect(total).toBeGreaterThan(100);
    expect(canariesIntact()).toBe(true);
  });

  test('400 forged tensors through the public API: every one a clear error, no write outside an allocation', () => {
    const real = b.f32(256);
    const forgeries: [string, () => Tensor][] = [
      [
        'storage shorter than its length',
        () => new Tensor(b, 'f32', 1 << 20, isCpu ? new Float32Array(4) : (b.f32(4).handle as number)),
      ],
      [
        'a view past its base',
        () => new Tensor(b, 'f32', 512, isCpu ? new Float32Array(256) : (real.handle as number) + 4 * 128, real),
      ],
      ['storage of another dtype', () => new Tensor(b, 'f32', 64, isCpu ? new Int32Array(64) : 8)],
      ['a made-up handle', () => new Tensor(b, 'f32', 64, isCpu ? (12345 as never) : 1 << 20)],
      [
        'a freed allocation',
        () => {
          const t = b.f32(64);
          b.free(t);
          if (isCpu) return new Tensor(b, 'f32', 1 << 16, t.handle);
          return t;
        },
      ],
    ];
    const uses: [string, (t: Tensor) => unknown][] = [
      ['scale', (t) => b.scale(t, 2, t.length)],
      ['add', (t) => b.add(t, t, t, t.length)],
      ['sumsq', (t) => b.sumsq(t, t.length)],
      ['axpy', (t) => b.axpy(1, real, t, Math.min(t.length, 256))],
      ['write', (t) => b.write(t, new Float32Array(t.length))],
      ['read', (t) => b.read(t)],
      ['slice then scale', (t) => b.scale(t.slice(0, t.length), 2, t.length)],
      ['kvAppend', (t) => b.kvAppend(t, real, 0, 1, 64, Math.floor(t.length / 64))],
    ];
    let n = 0;
    const silent: string[] = [];
    for (let rep = 0; n < 400; rep++) {
      for (const [what, make] of forgeries) {
        for (const [use, f] of uses) {
          if (n >= 400) break;
          // A freed tensor on the CPU backend is still a valid JS typed array (the GC owns it): only
          // the forged longer length is wrong there, which `make` gives it.
          n++;
          try {
            f(make());
            silent.push(`${what} / ${use}: accepted`);
          } catch (e) {
            const msg = (e as Error).message;
            if (!/forged|not inside a live allocation|must be|holds|overflow|outside|elements but/.test(msg)) {
              silent.push(`${what} / ${use}: ${msg}`);
            }
          }
        }
      }
    }
    console.log(`${name}: ${n} forged-tensor calls, ${n - silent.length} clear errors, 0 crashes`);
    expect(silent).toEqual([]);
    expect(canariesIntact()).toBe(true);
  });

  test('sliceTensor, the public view constructor, cannot make a view larger than its storage', () => {
    const t = b.f32(16);
    expect(() => b.sliceTensor(t, 8, 9)).toThrow(/\[8, 17\) is outside a tensor of 16 elements/);
    expect(() => b.sliceTensor(t, -1, 2)).toThrow(/must be integers >= 0/);
    expect(() => b.sliceTensor(t, 0.5, 2)).toThrow(/must be integers >= 0/);
    expect(b.sliceTensor(t, 8, 8).length).toBe(8);
  });

  test('freeing twice is an error, not heap corruption', () => {
    const t = b.f32(16);
    b.free(t);
    if (name === 'wasm') expect(() => b.free(t)).toThrow(/not a live allocation/);
    else expect(() => b.free(t)).not.toThrow(); // the GC owns CPU memory: free is a no-op
    expect(canariesIntact()).toBe(true);
  });
});
