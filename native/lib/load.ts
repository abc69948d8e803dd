import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Backend, BackendName } from './backend';
import { AddonExports, CpuBackend, CpuIsaInfo, CudaInfo } from './cpu';
import { CudaBackend, cudaExports } from './cuda';
import { WasmBackend, wasmPath } from './wasm';

/** What the loader found and why it chose the backend it did. */
export interface BackendReport {
  chosen: BackendName;
  reason: string;
  requested: string;
  /** source: where the addon came from (SD_NATIVE_PATH, built from source, prebuilt (package)). */
  addon: {
    loaded: boolean;
    path?: string;
    source?: string;
    error?: string;
    buildInfo?: string;
    threads?: number;
    /** The CPU kernel variant in use and those this CPU runs (x86-64 runtime dispatch). */
    isa?: CpuIsaInfo;
  };
  wasm: { available: boolean; path: string; error?: string };
  cuda: CudaInfo;
  cpu: { model: string; cores: number; features: string[] };
}

/**
 * Candidate addons, in order: SD_NATIVE_PATH, a build from source (cmake-js, build/Release),
 * the prebuilt of the platform package (@seed-diffusion/native-<os>-<arch>, an optional
 * dependency installed only where it fits), a prebuilds/ folder. WASM is the last resort.
 */
function addonCandidates(): { path: string; source: string }[] {
  const root = path.join(__dirname, '..');
  const out: { path: string; source: string }[] = [];
  if (process.env.SD_NATIVE_PATH) out.push({ path: process.env.SD_NATIVE_PATH, source: 'SD_NATIVE_PATH' });
  out.push({ path: path.join(root, 'build', 'Release', 'sd_native.node'), source: 'built from source' });
  const platformPkg = `@seed-diffusion/native-${process.platform}-${process.arch}`;
  try {
    const { addonPath } = require(platformPkg) as { addonPath: string };
    out.push({ path: addonPath, source: `prebuilt (${platformPkg})` });
  } catch {
    // not installed (another platform, or --no-optional): the next candidates decide
  }
  out.push({
    path: path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'sd_native.node'),
    source: 'prebuilds/ folder',
  });
  return out;
}

/**
 * libgomp reads its environment once, when the addon is loaded. Its default spin-wait
 * (300k spins before sleeping) burns the cores that other processes need on a shared or
 * oversubscribed machine (CI runs several test workers at once); a short spin keeps the
 * wake-up cheap without that cost. A user's own OMP_WAIT_POLICY / GOMP_SPINCOUNT win.
 */
function tameOpenMp(): void {
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
    process.env.GOMP_SPINCOUNT = '20000';
  }
}

function loadAddon(): { addon?: AddonExports; path?: string; source?: string; error: string } {
  tameOpenMp();
  // SD_NO_ADDON=1 hides the addon: the suite then runs as a user without a compiler sees it.
  if (process.env.SD_NO_ADDON === '1') return { error: 'disabled by SD_NO_ADDON=1' };
  const errors: string[] = [];
  for (const { path: p, source } of addonCandidates()) {
    if (!existsSync(p)) {
      errors.push(`${p}: not built`);
      continue;
    }
    try {
      return { addon: require(p) as AddonExports, path: p, source, error: '' };
    } catch (e) {
      errors.push(`${p}: ${(e as Error).message}`);
    }
  }
  return { error: errors.join('; ') };
}

/** CPU model and the SIMD features the kernels care about (Linux /proc/cpuinfo). */
export function cpuFeatures(): { model: string; cores: number; features: string[] } {
  const cpus = os.cpus();
  let flags: string[] = [];
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => l.startsWith('flags'));
    flags = line ? line.split(':')[1].trim().split(/\s+/) : [];
  } catch {
    // not Linux: leave the list empty
  }
  const wanted = [
    'sse4_2',
    'avx',
    'avx2',
    'fma',
    'f16c',
    'avx512f',
    'avx512bw',
    'avx512dq',
    'avx512vl',
    'avx512_vnni',
    'avx512_bf16',
    'avx512_fp16',
    'amx_tile',
    'amx_bf16',
    'amx_int8',
    'neon',
    'asimd',
  ];
  return {
    model: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    features: wanted.filter((f) => flags.includes(f)),
  };
}

let cached: { backend: Backend; report: BackendReport } | undefined;

/**
 * Loads the backend named by SD_BACKEND (cuda | cpu | wasm), or the best available one:
 * CUDA if compiled in and a device answers, else the CPU addon, else WASM. An explicit
 * request that cannot be met throws an error that says why; auto never throws while
 * the WASM module exists.
 */
export function loadBackend(request: string = process.env.SD_BACKEND ?? 'auto'): {
  backend: Backend;
  report: BackendReport;
} {
  if (cached && cached.report.requested === request) return cached;
  const req = request.trim().toLowerCase() || 'auto';
  if (!['auto', 'cpu', 'wasm', 'cuda'].includes(req)) {
    throw new Error(`SD_BACKEND=${request}: unknown backend; use cuda, cpu, wasm or auto`);
  }
  const a = req === 'wasm' ? { error: 'not tried (SD_BACKEND=wasm)' } : loadAddon();
  const cuda: CudaInfo = a.addon
    ? a.addon.cuda_info()
    : { compiled: false, devices: 0, error: 'native addon not loaded' };
  let wasmError: string | undefined;
  const wasmAvailable = existsSync(wasmPath());
  if (!wasmAvailable) wasmError = `${wasmPath()} not built`;

  const report: BackendReport = {
    chosen: 'wasm',
    reason: '',
    requested: req,
    addon: a.addon
      ? {
          loaded: true,
          path: a.path,
          source: a.source,
          buildInfo: a.addon.build_info(),
          threads: a.addon.get_num_threads(),
          // an addon built before runtime dispatch has no cpu_isa
          isa: typeof a.addon.cpu_isa === 'function' ? a.addon.cpu_isa() : undefined,
        }
      : { loaded: false, error: a.error },
    wasm: { available: wasmAvailable, path: wasmPath(), error: wasmError },
    cuda,
    cpu: cpuFeatures(),
  };
  const cudaWhy = (): string =>
    !a.addon
      ? `the native addon did not load (${a.error})`
      : !cuda.compiled
        ? 'the addon was built without CUDA'
        : cuda.devices === 0
          ? `no CUDA device answers (${cuda.error ?? 'no device'})`
          : !cudaExports(a.addon)
            ? 'the addon has no CUDA ops (exports.cuda)'
            : cudaInitError
              ? `the CUDA device did not initialise (${cudaInitError})`
              : 'the CUDA kernels have not yet been verified on a GPU, so auto does not pick them (SD_BACKEND=cuda does)';
  // CUDA is used when asked for (SD_BACKEND=cuda), compiled in, a device answers and it
  // initialises. auto does not pick it until the kernels' parity has been checked on a GPU
  // (bench/cuda/device-check.ts): a wrong fast path is worse than a slower right one.
  let cudaInitError = '';
  const tryCuda = (): CudaBackend | undefined => {
    if (!a.addon || !cuda.compiled || cuda.devices === 0 || !cudaExports(a.addon)) return undefined;
    try {
      return new CudaBackend(a.addon);
    } catch (e) {
      cudaInitError = (e as Error).message;
      return undefined;
    }
  };
  const cudaBackend = req === 'cuda' ? tryCuda() : undefined;

  let backend: Backend;
  if (cudaBackend) {
    backend = cudaBackend;
    report.chosen = 'cuda';
    report.reason = req === 'cuda' ? 'requested by SD_BACKEND=cuda' : `auto: CUDA (${cudaBackend.buildInfo})`;
  } else if (req === 'cuda') {
    throw new Error(`SD_BACKEND=cuda cannot be used: ${cudaWhy()}`);
  } else if (req === 'cpu') {
    if (!a.addon) throw new Error(`SD_BACKEND=cpu cannot be used: the native addon did not load (${a.error})`);
    backend = new CpuBackend(a.addon);
    report.chosen = 'cpu';
    report.reason = 'requested by SD_BACKEND=cpu';
  } else if (req === 'wasm') {
    backend = new WasmBackend();
    report.reason = 'requested by SD_BACKEND=wasm';
  } else if (a.addon) {
    backend = new CpuBackend(a.addon);
    report.chosen = 'cpu';
    report.reason = `auto: CPU addon, ${a.source} (${a.addon.build_info()}); CUDA not used because ${cudaWhy()}`;
  } else {
    if (!wasmAvailable) throw new Error(`no backend available: addon: ${a.error}; wasm: ${wasmError}`);
    backend = new WasmBackend();
    report.reason = `auto: WASM fallback because the native addon did not load (${a.error})`;
  }
  cached = { backend, report };
  return cached;
}

/** The process-wide backend (see loadBackend). */
export function backend(): Backend {
  return loadBackend().backend;
}

/** Backends that can run on this machine, for tests and benchmarks. */
export function availableBackends(): Backend[] {
  const out: Backend[] = [];
  const a = loadAddon();
  if (a.addon) out.push(new CpuBackend(a.addon));
  if (existsSync(wasmPath())) out.push(new WasmBackend());
  return out;
}

/** Forgets the cached choice (tests switch SD_BACKEND). */
export function resetBackend(): void {
  cached = undefined;
}
