// Device check for the CUDA backend, prepared to run in ONE call on a GPU machine that has
// CUDA, PyTorch and python3 but no Node (bench/cuda/README.md has the command):
//  (a) every op's parity against the CPU backend and against PyTorch (torch_ref.py);
//  (b) a block-decoding step (block 32, cache 1024, batch 1) of randomly initialised
//      LLaDA-8B-shaped and small models in bf16, replayed as a CUDA graph, next to PyTorch
//      eager (bf16, SDPA; torch_step.py) on the same card in the same run, and next to the
//      floor: bytes read per forward / device-to-device copy bandwidth measured here;
//  (c) bench/results/cuda.json (and $OUT/cuda.json) with the figures.
// Exit codes: 0 ran (goals reported in the JSON), 2 no CUDA device, 1 a failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { CUDA_BF16, CUDA_F32, CudaBackend, type CudaExports, availableBackends, loadBackend } from '../../native/lib';
import { ParityCase, runCudaParity } from '../../native/test/cuda-parity';

const root = process.cwd();
const work = process.env.SD_DEVICE_WORK ?? '/tmp/sd-device-check';
const log = (...a: unknown[]): void => console.log('[device-check]', ...a);

function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

// ---------------------------------------------------------------- (a) parity
function dumpCase(dir: string, c: ParityCase, i: number): void {
  const d = path.join(dir, String(i).padStart(3, '0'));
  mkdirSync(d, { recursive: true });
  const arrays: Record<string, { file: string; dtype: string; length: number }> = {};
  const put = (kind: string, name: string, a: ArrayBufferView & { length: number }): void => {
    const file = `${kind}.${name}.bin`;
    writeFileSync(path.join(d, file), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    arrays[`${kind}.${name}`] = { file, dtype: a instanceof Int32Array ? 'int32' : 'float32', length: a.length };
  };
  for (const [k, v] of Object.entries(c.inputs)) put('in', k, v);
  for (const [k, v] of Object.entries(c.outputs)) put('out', k, v);
  writeFileSync(path.join(d, 'case.json'), JSON.stringify({ op: c.op, label: c.label, params: c.params, arrays }));
}

// ---------------------------------------------------------------- (b) model step
interface ModelShape {
  name: string;
  layers: number;
  d: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  vocab: number;
  block: number;
  cache: number;
}
const LLADA_8B: ModelShape = {
  name: '8b',
  layers: 32,
  d: 4096,
  heads: 32,
  kvHeads: 32,
  ffn: 12288,
  vocab: 126464,
  block: 32,
  cache: 1024,
};
const SMALL: ModelShape = {
  name: 'small',
  layers: 6,
  d: 512,
  heads: 8,
  kvHeads: 8,
  ffn: 1408,
  vocab: 32000,
  block: 32,
  cache: 1024,
};

class Model {
  readonly ptrs: number[] = [];
  readonly T: number;
  readonly hd: number;
  readonly qkvN: number;
  readonly maxLen: number;
  readonly weightBytes: number;
  readonly layers: {
    wqkv: number;
    wo: number;
    wgu: number;
    wd: number;
    n1: number;
    n2: number;
    kc: number;
    vc: number;
  }[] = [];
  emb = 0;
  head = 0;
  normf = 0;
  ids = 0;
  pos = 0;
  x = 0;
  h = 0;
  qkv = 0;
  att = 0;
  gu = 0;
  act = 0;
  logits = 0;
  tok = 0;
  prob = 0;

  constructor(
    readonly c: CudaExports,
    readonly s: ModelShape,
    seed: number,
  ) {
    const { d, heads, kvHeads, ffn, vocab, block, cache, layers } = s;
    this.T = block; // batch 1
    this.hd = d / heads;
    this.qkvN = (heads + 2 * kvHeads) * this.hd;
    this.maxLen = cache + block;
    const kvRow = kvHeads * this.hd;
    let sd = seed;
    const bf16 = (n: number, scale: number): number => this.fill(n, CUDA_BF16, sd++, -scale, scale);
    const f32 = (n: number, lo: number, hi: number): number => this.fill(n, CUDA_F32, sd++, lo, hi);
    const u = (fanIn: number): number => Math.sqrt(3 / fanIn); // unit-variance uniform
    let wb = 0;
    for (let l = 0; l < layers; l++) {
      this.layers.push({
        wqkv: bf16(this.qkvN * d, u(d)),
        wo: bf16(d * d, u(d)),
        wgu: bf16(2 * ffn * d, u(d)),
        wd: bf16(d * ffn, u(ffn)),
        n1: f32(d, 0.9, 1.1),
        n2: f32(d, 0.9, 1.1),
        kc: bf16(this.maxLen * kvRow, 1),
        vc: bf16(this.maxLen * kvRow, 1),
      });
      wb += 2 * (this.qkvN * d + d * d + 3 * ffn * d) + 8 * d;
    }
    this.emb = bf16(vocab * d, 1);
    this.head = bf16(vocab * d, u(d));
    this.normf = f32(d, 0.9, 1.1);
    this.weightBytes = wb + 2 * vocab * d + 4 * d;
    const T = this.T;
    this.ids = this.alloc(4 * T);
    this.pos = this.alloc(4 * T);
    const ids = new Int32Array(T),
      pos = new Int32Array(T);
    for (let i = 0; i < T; i++) {
      ids[i] = (i * 7919 + 13) % vocab;
      pos[i] = cache + i;
    }
    this.c.upload(this.ids, ids);
    this.c.upload(this.pos, pos);
    this.x = this.alloc(4 * T * d);
    this.h = this.alloc(2 * T * Math.max(d, ffn));
    this.qkv = this.alloc(4 * T * this.qkvN);
    this.att = this.alloc(2 * T * d);
    this.gu = this.alloc(4 * T * 2 * ffn);
    this.act = this.alloc(2 * T * ffn);
    this.logits = this.alloc(4 * T * vocab);
    this.tok = this.alloc(4 * T);
    this.prob = this.alloc(4 * T);
  }
  private alloc(bytes: number): number {
    const p = this.c.alloc(bytes);
    this.ptrs.push(p);
    return p;
  }
  private fill(n: number, dtype: number, seed: number, lo: number, hi: number): number {
    const p = this.alloc(n * (dtype === CUDA_BF16 ? 2 : 4));
    this.c.fill_uniform(p, dtype, n, seed, lo, hi);
    return p;
  }
  /** Bytes a forward must read at least: every weight once, the KV cache once, the embedding rows. */
  bytesRead(): number {
    const s = this.s;
    const kv = s.layers * 2 * (s.cache + s.block) * s.kvHeads * this.hd * 2;
    return this.weightBytes - 2 * s.vocab * s.d + 2 * this.T * s.d + kv;
  }
  /** One block-decoding forward: the block's 32 tokens against the cache, then greedy ids. */
  step(): void {
    const { c, s, T, hd, qkvN } = this;
    const { d, heads, kvHeads, ffn, vocab, cache } = s;
    const eps = 1e-5,
      kvRow = kvHeads * hd;
    c.embedding_fwd_x(this.ids, this.emb, CUDA_BF16, this.x, T, vocab, d);
    for (const L of this.layers) {
      c.rmsnorm_fwd_x(this.x, L.n1, this.h, CUDA_BF16, null, T, d, eps);
      c.gemm_bf16(this.h, L.wqkv, this.qkv, CUDA_F32, T, qkvN, d, 1, 0);
      c.rope_strided(this.qkv, qkvN, this.pos, T, heads + kvHeads, hd, hd, 500000, 0, 0);
      c.kv_append_x(L.kc, CUDA_BF16, this.qkv + 4 * heads * hd, qkvN, cache, T, kvRow, this.maxLen);
      c.kv_append_x(L.vc, CUDA_BF16, this.qkv + 4 * (heads + kvHeads) * hd, qkvN, cache, T, kvRow, this.maxLen);
      c.attention_fwd_x(
        this.qkv,
        qkvN,
        L.kc,
        L.vc,
        CUDA_BF16,
        this.att,
        CUDA_BF16,
        null,
        T,
        cache + T,
        heads,
        kvHeads,
        hd,
        4,
        0,
        0,
        cache,
        1 / Math.sqrt(hd),
      );
      c.gemm_bf16(this.att, L.wo, this.x, CUDA_F32, T, d, d, 1, 1); // residual add fused (beta = 1)
      c.rmsnorm_fwd_x(this.x, L.n2, this.h, CUDA_BF16, null, T, d, eps);
      c.gemm_bf16(this.h, L.wgu, this.gu, CUDA_F32, T, 2 * ffn, d, 1, 0);
      c.swiglu_rows(this.gu, this.act, CUDA_BF16, T, ffn);
      c.gemm_bf16(this.act, L.wd, this.x, CUDA_F32, T, d, ffn, 1, 1);
    }
    c.rmsnorm_fwd_x(this.x, this.normf, this.h, CUDA_BF16, null, T, d, eps);
    c.gemm_bf16(this.h, this.head, this.logits, CUDA_F32, T, vocab, d, 1, 0);
    c.decode_rows(this.logits, T, vocab, -1, -1, 0, 0, 1, null, this.tok, this.prob, null, null);
  }
  /** Writes weights (bf16 bits), caches, inputs and this step's logits for torch_step.py. */
  dump(dir: string): void {
    const { c, s } = this;
    mkdirSync(dir, { recursive: true });
    const get = (p: number, n: number, bytesPer: number, file: string): void => {
      const buf = bytesPer === 2 ? new Uint16Array(n) : new Float32Array(n);
      c.download(buf, p);
      writeFileSync(path.join(dir, file), Buffer.from(buf.buffer));
    };
    const kvRow = s.kvHeads * this.hd;
    this.layers.forEach((L, l) => {
      get(L.wqkv, this.qkvN * s.d, 2, `l${l}.wqkv.bf16`);
      get(L.wo, s.d * s.d, 2, `l${l}.wo.bf16`);
      get(L.wgu, 2 * s.ffn * s.d, 2, `l${l}.wgu.bf16`);
      get(L.wd, s.d * s.ffn, 2, `l${l}.wd.bf16`);
      get(L.n1, s.d, 4, `l${l}.n1.f32`);
      get(L.n2, s.d, 4, `l${l}.n2.f32`);
      get(L.kc, this.maxLen * kvRow, 2, `l${l}.kc.bf16`);
      get(L.vc, this.maxLen * kvRow, 2, `l${l}.vc.bf16`);
    });
    get(this.emb, s.vocab * s.d, 2, 'emb.bf16');
    get(this.head, s.vocab * s.d, 2, 'head.bf16');
    get(this.normf, s.d, 4, 'normf.f32');
    get(this.logits, this.T * s.vocab, 4, 'logits.f32');
    get(this.tok, this.T, 4, 'tok.i32');
    get(this.ids, this.T, 4, 'ids.i32');
    writeFileSync(
      path.join(dir, 'shape.json'),
      JSON.stringify({ ...s, T: this.T, hd: this.hd, theta: 500000, eps: 1e-5 }),
    );
  }
  free(): void {
    for (const p of this.ptrs) this.c.free(p);
    this.ptrs.length = 0;
  }
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/** Graph-captured step: eager warm-up, capture, then the median of `reps` timed batches of `iters` replays. */
function timeStep(c: CudaExports, m: Model, iters: number, reps: number): { eagerMs: number; graphMs: number } {
  m.step(); // warm-up: module load, kernel attributes
  c.sync();
  c.timer_start();
  m.step();
  const eagerMs = c.timer_stop();
  c.graph_begin();
  m.step();
  const g = c.graph_end();
  c.graph_replay(g);
  c.sync();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    c.timer_start();
    for (let i = 0; i < iters; i++) c.graph_replay(g);
    times.push(c.timer_stop() / iters);
  }
  c.graph_free(g);
  return { eagerMs, graphMs: median(times) };
}

/** Device-to-device copy bandwidth (bytes read + written per second), 1 GiB buffers. */
function copyBandwidth(c: CudaExports): number {
  const bytes = 1 << 30;
  const a = c.alloc(bytes),
    b = c.alloc(bytes);
  c.fill_uniform(a, CUDA_F32, bytes / 4, 7, -1, 1);
  c.copy(b, a, bytes);
  const t: number[] = [];
  for (let r = 0; r < 5; r++) {
    c.timer_start();
    for (let i = 0; i < 10; i++) c.copy(i % 2 ? a : b, i % 2 ? b : a, bytes);
    t.push(c.timer_stop() / 10);
  }
  c.free(a);
  c.free(b);
  return (2 * bytes) / (median(t) / 1e3);
}

function python(args: string[]): { ok: boolean; json?: Record<string, unknown>; text: string } {
  const r = spawnSync('python3', args, {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  process.stdout.write(
    text
      .split('\n')
      .map((l) => `  | ${l}`)
      .join('\n') + '\n',
  );
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return { ok: r.status === 0, json: JSON.parse(last) as Record<string, unknown>, text };
  } catch {
    return { ok: false, text };
  }
}

function main(): number {
  let gpu: CudaBackend;
  try {
    gpu = loadBackend('cuda').backend as CudaBackend;
  } catch (e) {
    console.error(`[device-check] no CUDA device: ${(e as Error).message}`);
    console.error('[device-check] nothing was run; run this on the GPU machine (bench/cuda/README.md)');
    return 2;
  }
  const c = gpu.cuda;
  const card = c.info();
  log('device:', card, '| backend:', gpu.buildInfo);
  const cpu = availableBackends().find((b) => b.name === 'cpu');
  if (!cpu) throw new Error('the CPU addon is needed as the parity reference');
  rmSync(work, { recursive: true, force: true });

  // (a) parity vs CPU, and the cases for PyTorch
  const caseDir = path.join(work, 'cases');
  let nCase = 0;
  const parity = runCudaParity(gpu, cpu, 20260101, (cs) => dumpCase(caseDir, cs, nCase++));
  for (const r of parity)
    log(
      `${r.skipped ? 'SKIP' : r.ok ? 'ok  ' : 'BAD '} cpu  ${r.op} [${r.label}] ${r.output} err ${r.err.toExponential(2)} tol ${r.tol}${r.skipped ? ` ${r.skipped}` : ''}`,
    );
  const torchRef = python([path.join(root, 'bench/cuda/torch_ref.py'), caseDir]);
  const torchParity =
    (torchRef.json?.results as {
      op: string;
      label: string;
      output: string;
      err: number;
      tol: number;
      ok: boolean;
    }[]) ?? [];

  // (b) steps
  const bw = copyBandwidth(c);
  log(`device-to-device copy: ${(bw / 1e12).toFixed(3)} TB/s (read + write)`);
  const small = new Model(c, SMALL, 1000);
  const ts = timeStep(c, small, 50, 5);
  small.step();
  const smallDir = path.join(work, 'small');
  small.dump(smallDir);
  const smallFloor = (small.bytesRead() / bw) * 1e3;
  log(
    `small step: graph ${ts.graphMs.toFixed(3)} ms, eager ${ts.eagerMs.toFixed(3)} ms, floor ${smallFloor.toFixed(3)} ms`,
  );
  small.free();
  const big = new Model(c, LLADA_8B, 2000);
  const tb = timeStep(c, big, 10, 5);
  const floor8b = (big.bytesRead() / bw) * 1e3;
  const tokHost = new Int32Array(big.T);
  c.download(tokHost, big.tok);
  log(
    `8b step: graph ${tb.graphMs.toFixed(3)} ms, eager ${tb.eagerMs.toFixed(3)} ms, floor ${floor8b.toFixed(3)} ms (${(big.bytesRead() / 1e9).toFixed(2)} GB read)`,
  );
  big.free();
  c.empty_cache(); // give the memory back before PyTorch runs

  const torch = python([path.join(root, 'bench/cuda/torch_step.py'), '--small', smallDir]);
  const tj = torch.json ?? {};
  const torch8b = Number(tj.step_ms_8b);
  const result = {
    card,
    backend: gpu.buildInfo,
    copy_bw_tb_s: bw / 1e12,
    step_ms_8b: tb.graphMs,
    step_ms_8b_eager_launches: tb.eagerMs,
    floor_ms_8b: floor8b,
    step_vs_floor: tb.graphMs / floor8b,
    torch_step_ms_8b: torch8b,
    speedup_vs_torch: torch8b / tb.graphMs,
    step_ms_small: ts.graphMs,
    floor_ms_small: smallFloor,
    torch_step_ms_small: Number(tj.step_ms_small),
    max_rel_err_vs_torch: Number(tj.max_rel_err_small),
    rel_l2_err_vs_torch: Number(tj.rel_l2_err_small),
    argmax_agreement_vs_torch: Number(tj.argmax_agreement_small),
    err_model: 'small (same weights, caches and inputs in both; logits compared)',
    goals: { step_vs_floor_max: 1.3, speedup_vs_torch_min: 1.5 },
    goals_met: { floor: tb.graphMs / floor8b <= 1.3, torch: torch8b / tb.graphMs >= 1.5 },
    parity_cpu: {
      checked: parity.filter((r) => !r.skipped).length,
      failed: parity.filter((r) => !r.skipped && !r.ok).map((r) => `${r.op} [${r.label}] ${r.output} ${r.err}`),
      skipped: parity.filter((r) => r.skipped).map((r) => `${r.op} [${r.label}]: ${r.skipped}`),
    },
    parity_torch: {
      ran: torchRef.ok,
      checked: torchParity.length,
      failed: torchParity.filter((r) => !r.ok).map((r) => `${r.op} [${r.label}] ${r.output} ${r.err}`),
      max_err: Math.max(0, ...torchParity.map((r) => r.err)),
    },
    shapes: { '8b': LLADA_8B, small: SMALL },
  };
  const text = JSON.stringify(result, null, 2);
  writeAtomic(path.join(root, 'bench/results/cuda.json'), text + '\n');
  if (process.env.OUT) writeAtomic(path.join(process.env.OUT, 'cuda.json'), text + '\n');
  console.log(JSON.stringify(result));
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error('[device-check] failed:', (e as Error).stack ?? e);
  process.exitCode = 1;
}
