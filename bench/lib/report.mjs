// What every benchmark prints beside its figures: the machine, and the spread of a figure over rounds.
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** CPU flags from /proc/cpuinfo (empty where it cannot be read). */
export function cpuFlags() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    return new Set(line ? line.split(':')[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/** "<CPU model>, N cores, AVX-512|AVX2|baseline, G GiB" — which CPU gave a figure. */
export function machine() {
  const f = cpuFlags();
  const isa = ['avx512f', 'avx512bw', 'avx512vl'].every((x) => f.has(x))
    ? `AVX-512${f.has('amx_tile') ? ' + AMX' : ''}`
    : f.has('avx2') && f.has('fma')
      ? 'AVX2/FMA'
      : 'no AVX2';
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'cpu'}, ${cpus.length} cores, ${isa}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

/** { median, min, max, rounds } of per-round values (rounded to `digits` decimals). */
export function spread(values, digits = 3) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return { median: null, min: null, max: null, rounds: 0 };
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const r = (x) => Number(x.toFixed(digits));
  return { median: r(m), min: r(s[0]), max: r(s[s.length - 1]), rounds: s.length };
}
