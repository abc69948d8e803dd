// Flag parsing shared by the `eval` subcommands (eval.ts, eval-edit.ts): numbers with errors that
// name the flag, sandbox limits, and the progress bar.
import { SingleBar } from 'cli-progress';

import type { SandboxLimits } from '@seed-diffusion/eval';
import type { SamplerOptions } from '@seed-diffusion/sampler';

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${value}`);
  return n;
}

export function nonNegativeInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be an integer >= 0, got ${value}`);
  return n;
}

export function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${flag} must be a positive number, got ${value}`);
  return n;
}

export function unitNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new Error(`${flag} must be a number in [0, 1], got ${value}`);
  return n;
}

export interface SandboxFlags {
  timeout?: string;
  memory?: string;
  concurrency?: string;
}

export function sandboxLimits(o: SandboxFlags): Partial<SandboxLimits> {
  const timeout = positiveNumber(o.timeout, '--timeout');
  const memory = positiveInt(o.memory, '--memory');
  const limits: Partial<SandboxLimits> = {};
  if (timeout !== undefined) limits.timeoutMs = timeout * 1000;
  if (memory !== undefined) limits.memoryMb = memory;
  return limits;
}

/** A progress bar on stderr with the pass count, rate and ETA (also when piped). */
export function progressBar(label: string) {
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} | {passed} passed | {duration_formatted} elapsed | eta {eta_formatted}`,
    hideCursor: true,
    stream: process.stderr,
    // piped or in a log: a plain progress line every 10 s instead of nothing
    noTTYOutput: true,
    notTTYSchedule: 10000,
    etaBuffer: 50,
  });
  let started = false;
  return {
    update(done: number, total: number, passed: number) {
      if (!started) {
        bar.start(total, 0, { passed: 0 });
        started = true;
      }
      bar.update(done, { passed });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** The decoding flags `eval` and `eval edit` share. */
export interface SamplerFlags {
  mode?: SamplerOptions['mode'];
  block?: string;
  policy?: SamplerOptions['policy'];
  threshold?: string;
  temperature?: string;
  maxNewTokens?: string;
}

/** Sampler options from the flags given (the sampler's defaults fill the rest). */
export function samplerFlags(o: SamplerFlags): Partial<SamplerOptions> {
  const s: Partial<SamplerOptions> = {};
  if (o.mode !== undefined) s.mode = o.mode;
  const block = positiveInt(o.block, '--block');
  if (block !== undefined) s.blockSize = block;
  if (o.policy !== undefined) s.policy = o.policy;
  const threshold = unitNumber(o.threshold, '--threshold');
  if (threshold !== undefined) s.threshold = threshold;
  if (o.temperature !== undefined) {
    const t = Number(o.temperature);
    if (!(t >= 0) || !Number.isFinite(t)) throw new Error(`--temperature must be a number >= 0, got ${o.temperature}`);
    s.temperature = t;
  }
  const max = positiveInt(o.maxNewTokens, '--max-new-tokens');
  if (max !== undefined) s.maxNewTokens = max;
  return s;
}
