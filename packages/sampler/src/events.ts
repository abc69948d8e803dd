// Events emitted while decoding: one when a block starts, one per denoising step, one when the
// block is final, and one at the end. Listeners (the terminal view, the trajectory recorder,
// progress bars) see every state of every block.
import type { DecodeMode } from './options';

/** A position changed at a step; `pos` is absolute in the sequence, `index` within the block. */
export interface PositionChange {
  pos: number;
  index: number;
  token: number;
  confidence: number;
}

export interface Rewrite extends PositionChange {
  previous: number;
}

export interface BlockStartEvent {
  type: 'block_start';
  block: number;
  /** Absolute position of the block's first token. */
  start: number;
  /** The block's canvas: prompt-tail ids where fixed, [MASK] elsewhere. */
  canvas: Int32Array;
  /** 1 where the position holds a prompt token (never rewritten). */
  fixed: Uint8Array;
  forwards: number;
}

export interface StepEvent {
  type: 'step';
  block: number;
  start: number;
  /** 0-based step within the block. */
  step: number;
  /** 'fill' while masks remain before the step; 'post' for edit-only steps after the block is full. */
  phase: 'fill' | 'post';
  committed: PositionChange[];
  rewritten: Rewrite[];
  /** The block after this step ([MASK] where still masked). */
  canvas: Int32Array;
  /** Masked positions left in the block. */
  masked: number;
  /** Decode forwards so far in the run (this step's included). */
  forwards: number;
}

export interface BlockEndEvent {
  type: 'block_end';
  block: number;
  start: number;
  /** The final block (EOS and anything after it included, as decoded). */
  canvas: Int32Array;
  /** Generated tokens this block adds to the output (after the prompt, before any EOS). */
  tokens: Int32Array;
  /** Steps the block took (forwards over it, not counting the commit forward). */
  steps: number;
  forwards: number;
  /** Generated tokens so far in the run. */
  generated: number;
}

export type StopReason = 'eos' | 'max_new_tokens' | 'context' | 'stop';

export interface DecodeStats {
  mode: DecodeMode;
  blockSize: number;
  promptTokens: number;
  generatedTokens: number;
  blocks: number;
  /** Denoising forwards (one per step). */
  stepForwards: number;
  /** Forwards that append a final block's exact K/V to the cache (cache mode). */
  commitForwards: number;
  /** stepForwards + commitForwards: the decode cost. */
  forwards: number;
  /** Final blocks whose K/V were appended inside the next block's first step (no extra forward). */
  fusedCommits: number;
  /** Forwards spent prefilling the prompt (0 or 1). */
  prefillForwards: number;
  /** Committed tokens later rewritten by self-correction. */
  edits: number;
  /** mode 'verify': guesses checked, and how many of them b = 1 decoding confirmed. */
  drafted: number;
  accepted: number;
  tokensPerForward: number;
  /** Wall time of the whole run, prefill included. */
  wallSeconds: number;
  prefillSeconds: number;
  tokensPerSecond: number;
  stopReason: StopReason;
}

export interface DoneEvent {
  type: 'done';
  /** The generated tokens (prompt and EOS excluded). */
  tokens: Int32Array;
  stats: DecodeStats;
}

/** What a decode returns. */
export interface DecodeResult {
  /** Generated tokens (prompt and EOS excluded). */
  tokens: Int32Array;
  stats: DecodeStats;
}

export type DecodeEvent = BlockStartEvent | StepEvent | BlockEndEvent | DoneEvent;
export type DecodeListener = (e: DecodeEvent) => void;

/** Zeroed stats for a decode that is starting. */
export function newStats(
  mode: DecodeMode,
  blockSize: number,
  promptTokens: number,
  stopReason: StopReason,
): DecodeStats {
  return {
    mode,
    blockSize,
    promptTokens,
    generatedTokens: 0,
    blocks: 0,
    stepForwards: 0,
    commitForwards: 0,
    forwards: 0,
    prefillForwards: 0,
    fusedCommits: 0,
    edits: 0,
    drafted: 0,
    accepted: 0,
    tokensPerForward: 0,
    wallSeconds: 0,
    prefillSeconds: 0,
    tokensPerSecond: 0,
    stopReason,
  };
}

/** Fills the totals once a decode has produced `tokens` (t0: its performance.now() start). */
export function finishStats(stats: DecodeStats, tokens: Int32Array, stopReason: StopReason, t0: number): DecodeStats {
  stats.generatedTokens = tokens.length;
  stats.stopReason = stopReason;
  stats.wallSeconds = (performance.now() - t0) / 1000;
  stats.tokensPerForward = stats.forwards > 0 ? tokens.length / stats.forwards : 0;
  stats.tokensPerSecond = stats.wallSeconds > 0 ? tokens.length / stats.wallSeconds : 0;
  return stats;
}
