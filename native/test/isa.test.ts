// Runtime CPU dispatch (src/cpu/isa/dispatch.cpp): which kernel variant runs and why, the
// SD_CPU_ISA override, and the properties every variant must keep. Parity of every op against
// the float64 reference runs per variant in the op's own test file (helpers.backends() lists
// "cpu/avx2", "cpu/base", ... beside "cpu"); here: the variants a CPU lacks are reported as
// skipped with the reason, row independence (bit for bit) per variant for matmul, matmul_w16
// and attention, the bf16 dot-product path's stated tolerance, and attention at D a multiple
// of 32 (the AVX-512 GEMM path reads the value rows in place there).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { AttnShape, Backend, CpuBackend, availableBackends, cpuFeatures, reference } from '../lib';
import { maxRelErr, randn, rng } from './helpers';

const ALL = ['base', 'avx2', 'avx512'] as const;
// The CPU flags each variant needs (as /proc/cpuinfo names them).
const NEEDS: Record<string, string[]> = {
  base: [],
  avx2: ['avx2', 'fma', 'f16c'],
  avx512: ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512dq', 'avx512vl'],
};

const cpu = availableBackends().find((b): b is CpuBackend => b instanceof CpuBackend);
const flags = cpuFeatures().features;
const dispatch = cpu !== undefined && cpu.isaSupported.length > 0;

/** Runs `code` in a fresh Node with env, returning stdout (the addon is chosen at load). */
function child(env: Record<string, string>, code: string): string {
  return execFileSync(process.execPath, ['-e', code], {
    env: { ...process.env, ...env },
    cwd: path.join(__dirname, '..'),
    encoding: 'utf8',
  }).trim();
}

// Chosen at load: without the addon, or in a build without dispatch, the block is reported skipped.
const dispatchSkip = !cpu
  ? 'no CPU addon built: the dispatch tests need it'
  : !dispatch
    ? `this addon has no runtime dispatch (${cpu.buildInfo}): not x86-64 or SD_CPU_DISPATCH=OFF`
    : null;
(dispatchSkip ? describe.skip : describe)(dispatchSkip ? `dispatch [skipped: ${dispatchSkip}]` : 'dispatch', () => {
  const supported = cpu?.isaSupported ?? [];
  test('the variants offered are those the CPU flags allow, and the widest is chosen at load', () => {
    const expected = ALL.filter((isa) => NEEDS[isa].every((f) => flags.includes(f)));
    // cpuFeatures lists only the flags it cares about; /proc/cpuinfo may be missing off Linux.
    if (flags.length > 0) expect(supported).toEqual(expected);
    const chosen = child({ SD_CPU_ISA: '' }, "console.log(require('./dist').backend().buildInfo)");
    expect(chosen).toContain(`isa ${supported[supported.length - 1]} (CPUID`);
  });
  test('SD_CPU_ISA=base forces the baseline variant and says so; an unknown value is ignored with a reason', () => {
    const forced = child(
      { SD_CPU_ISA: 'base', SD_BACKEND: 'cpu' },
      "console.log(require('./dist').backend().buildInfo)",
    );
    expect(forced).toMatch(/isa base \(.*forced by SD_CPU_ISA=base\)/);
    const bad = child({ SD_CPU_ISA: 'sse9', SD_BACKEND: 'cpu' }, "console.log(require('./dist').backend().buildInfo)");
    expect(bad).toMatch(/SD_CPU_ISA=sse9 ignored \(base\|avx2\|avx512\)/);
  });
  test('asking for a variant the CPU cannot run is a clear error naming those it can', () => {
    const missing = ALL.filter((isa) => !supported.includes(isa));
    const want = missing[0] ?? 'sse9';
    expect(() => new CpuBackend(cpu!.addon, want)).toThrow(/not a kernel variant this CPU runs \(base/);
  });
  for (const isa of ALL) {
    if (!supported.includes(isa)) {
      const lacking = NEEDS[isa].filter((f) => !flags.includes(f));
      test.skip(`variant ${isa}: skipped, this CPU lacks ${lacking.join(' ') || 'it'} (its parity tests cannot run here)`, () =>
        undefined);
    }
  }
});

/** A row's result must not depend on the other rows of the call: rows computed alone or in any
 * sub-range are bit-identical to the same rows of the whole call. */
function rowsAgree(full: Float32Array, part: Float32Array, row0: number, cols: number): void {
  const want = full.subarray(row0 * cols, row0 * cols + part.length);
  expect(
    Buffer.compare(
      Buffer.from(part.buffer, part.byteOffset, part.byteLength),
      Buffer.from(want.buffer, want.byteOffset, want.byteLength),
    ),
  ).toBe(0);
}

// Every CPU variant this machine runs, and the WASM build (the same sources, SIMD128, where the
// bf16-dot path is the emulated one).
const wasm = availableBackends().find((b) => b.name === 'wasm');
const variants: [string, Backend][] = [
  ...(cpu
    ? dispatch
      ? cpu.isaSupported.map((isa) => [isa, new CpuBackend(cpu.addon, isa)] as [string, Backend])
      : [['native', cpu] as [string, Backend]]
    : []),
  ...(wasm ? [['wasm', wasm] as [string, Backend]] : []),
];

const subsets: [number, number][] = [
  [0, 1],
  [5, 12],
  [7, 31],
  [13, 14],
  [0, 24],
];

describe.each(variants)('variant %s', (isa, b) => {
  test('matmul: rows are independent of the other rows in the call (bit for bit), all transposes', () => {
    const M = 37,
      N = 83,
      K = 600; // two K slices; partial row and column tiles
    for (const [ta, tb] of [
      [false, true],
      [false, false],
      [true, false],
    ] as const) {
      const A = randn(M * K, 11 + +ta);
      const B = randn(K * N, 12 + +tb);
      const full = b.f32(M * N);
      b.matmul(b.from(A), b.from(B), full, M, N, K, ta, tb);
      const fullv = b.read(full) as Float32Array;
      for (const [r0, r1] of subsets) {
        const m = r1 - r0;
        // the rows [r0, r1) of op(A) as their own matrix
        const sub = new Float32Array(m * K);
        for (let i = 0; i < m; i++)
          for (let k = 0; k < K; k++) sub[ta ? k * m + i : i * K + k] = ta ? A[k * M + r0 + i] : A[(r0 + i) * K + k];
        const C = b.f32(m * N);
        b.matmul(b.from(sub), b.from(B), C, m, N, K, ta, tb);
        rowsAgree(fullv, b.read(C) as Float32Array, r0, N);
      }
    }
  });

  test('matmul_w16 (f16, bf16, bf16-dot): rows are independent of the other rows (bit for bit)', () => {
    const M = 32,
      N = 70,
      K = 514;
    const A = randn(M * K, 21);
    const r = rng(22);
    const bits = Uint16Array.from({ length: K * N }, () => 0x3800 + Math.floor(r() * 0x800) + (r() < 0.5 ? 0x8000 : 0));
    for (const type of ['f16', 'bf16', 'bf16-dot'] as const) {
      const full = b.f32(M * N);
      b.matmulW16(b.from(A), b.from(bits), full, M, N, K, false, true, type);
      const fullv = b.read(full) as Float32Array;
      for (const [r0, r1] of subsets) {
        const C = b.f32((r1 - r0) * N);
        b.matmulW16(b.from(A.subarray(r0 * K, r1 * K)), b.from(bits), C, r1 - r0, N, K, false, true, type);
        rowsAgree(fullv, b.read(C) as Float32Array, r0, N);
      }
    }
  });

  test('matmul_w16 bf16-dot: within 2^-8·Σ|a·b| of the exact bf16 product (its stated tolerance), odd and even K, both layouts', () => {
    for (const [M, N, K, tb] of [
      [32, 96, 512, true],
      [7, 45, 31, true],
      [13, 70, 66, false],
      [1, 33, 2, true],
    ] as const) {
      const A = randn(M * K, M + N + K);
      const r = rng(M * N);
      const bits = Uint16Array.from(
        { length: K * N },
        () => 0x3c00 + Math.floor(r() * 0x400) + (r() < 0.5 ? 0x8000 : 0),
      );
      const wide = reference.widen16(bits, 'bf16');
      const exact = b.f32(M * N),
        dot = b.f32(M * N);
      b.matmulW16(b.from(A), b.from(bits), exact, M, N, K, false, tb, 'bf16');
      b.matmulW16(b.from(A), b.from(bits), dot, M, N, K, false, tb, 'bf16-dot');
      const e = b.read(exact) as Float32Array,
        d = b.read(dot) as Float32Array;
      let worst = 0,
        differs = false;
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += Math.abs(A[i * K + k] * (tb ? wide[j * K + k] : wide[k * N + j]));
          const bound = 2 ** -8 * s + 1e-6 * s;
          worst = Math.max(worst, Math.abs(d[i * N + j] - e[i * N + j]) / bound);
          differs ||= d[i * N + j] !== e[i * N + j];
        }
      expect(worst).toBeLessThanOrEqual(1);
      if (K > 8) expect(differs).toBe(true); // it really is a different path (A rounded to bf16)
    }
  });

  const attn: [string, AttnShape][] = [
    ['bidir D=64 (in-place values)', { Tq: 77, Tk: 77, Hq: 4, Hkv: 2, D: 64, mask: 'bidir' }],
    ['prefix against a cache D=32', { Tq: 30, Tk: 150, Hq: 2, Hkv: 2, D: 32, mask: 'prefix', qOffset: 120 }],
    ['causal D=96', { Tq: 70, Tk: 70, Hq: 2, Hkv: 1, D: 96, mask: 'causal' }],
    [
      'block_causal D=40 (padded value panels)',
      { Tq: 45, Tk: 45, Hq: 3, Hkv: 1, D: 40, mask: 'block_causal', block: 8, origin: 5 },
    ],
  ];
  test.each(attn)('attention_fwd %s: matches the float64 reference', (_n, s) => {
    const q = randn(s.Tq * s.Hq * s.D, 31),
      k = randn(s.Tk * s.Hkv * s.D, 32),
      v = randn(s.Tk * s.Hkv * s.D, 33);
    const out = b.f32(s.Tq * s.Hq * s.D),
      lse = b.f32(s.Tq * s.Hq);
    b.attentionFwd(b.from(q), b.from(k), b.from(v), out, lse, s);
    const ref = reference.attentionFwd(q, k, v, s);
    expect(maxRelErr(b.read(out) as Float32Array, ref.out)).toBeLessThan(2e-5);
    expect(maxRelErr(b.read(lse) as Float32Array, ref.lse)).toBeLessThan(2e-5);
  });

  test.each([
    ['bidir', { Tq: 100, Tk: 100, Hq: 4, Hkv: 4, D: 64, mask: 'bidir' }],
    ['32 rows against a 1024 cache', { Tq: 32, Tk: 1056, Hq: 2, Hkv: 2, D: 64, mask: 'prefix', qOffset: 1024 }],
  ] as [string, AttnShape][])(
    'attention_fwd %s: a query row does not depend on the other rows (bit for bit)',
    (_n, s) => {
      const q = randn(s.Tq * s.Hq * s.D, 41),
        k = randn(s.Tk * s.Hkv * s.D, 42),
        v = randn(s.Tk * s.Hkv * s.D, 43);
      const row = s.Hq * s.D;
      const full = b.f32(s.Tq * row);
      b.attentionFwd(b.from(q), b.from(k), b.from(v), full, null, s);
      const fullv = b.read(full) as Float32Array;
      for (const [r0, r1] of [
        [0, 1],
        [3, 17],
        [13, 32],
      ]) {
        // The same rows as their own call, seeing the same keys (prefix: j < qOffset + Tq).
        const part: AttnShape = { ...s, Tq: r1 - r0 };
        if (s.mask === 'prefix') part.qOffset = s.Tk - (r1 - r0);
        const out = b.f32((r1 - r0) * row);
        b.attentionFwd(b.from(q.subarray(r0 * row, r1 * row)), b.from(k), b.from(v), out, null, part);
        rowsAgree(fullv, b.read(out) as Float32Array, r0, row);
      }
    },
  );
});

const bf16Native = dispatch && cpu!.isaSupported.includes('avx512') && flags.includes('avx512_bf16');
const bf16Skip = bf16Native
  ? null
  : `this CPU ${dispatch ? 'lacks avx512_bf16 (or AVX-512)' : 'build has no dispatch'}; the emulated path is tested above`;
(bf16Skip ? describe.skip : describe)(
  bf16Skip ? `AVX512-BF16 native dot product [skipped: ${bf16Skip}]` : 'AVX512-BF16 native dot product',
  () => {
    test('the avx512 variant (vdpbf16ps) and the emulated avx2/base path agree within the stated tolerance of each other', () => {
      const M = 24,
        N = 64,
        K = 256;
      const A = randn(M * K, 51);
      const r = rng(52);
      const bits = Uint16Array.from({ length: K * N }, () => 0x3c00 + Math.floor(r() * 0x400));
      const wide = reference.widen16(bits, 'bf16');
      const outs: Float32Array[] = [];
      for (const isa of cpu!.isaSupported) {
        const b = new CpuBackend(cpu!.addon, isa);
        const C = b.f32(M * N);
        b.matmulW16(b.from(A), b.from(bits), C, M, N, K, false, true, 'bf16-dot');
        outs.push(b.read(C) as Float32Array);
      }
      // Both paths round A identically and sum exact products in float32: they differ only in
      // summation order, far inside 2^-8·Σ|a·b|.
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += Math.abs(A[i * K + k] * wide[j * K + k]);
          for (const o of outs) expect(Math.abs(o[i * N + j] - outs[0][i * N + j])).toBeLessThanOrEqual(1e-5 * s);
        }
    });
  },
);
