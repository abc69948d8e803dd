// Records decoding trajectories from events: for every block, its canvas at the start and after
// every step (which positions are masked, which ids they hold). Trajectory distillation and
// on-policy training (techniques §4-5) replay these states; they serialise to JSON.
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';

import type { DecodeEvent, DecodeStats } from './events';

export interface TrajectoryState {
  /** −1 for the block's initial state, else the step after which this is the canvas. */
  step: number;
  phase: 'start' | 'fill' | 'post';
  /** Block ids; [MASK] (the recorder's maskId) where masked. */
  ids: number[];
  /** Positions (within the block) committed / rewritten at this step. */
  committed: number[];
  rewritten: number[];
  /** Confidences of the committed positions, in the same order. */
  confidences: number[];
  forwards: number;
}

export interface BlockTrajectory {
  block: number;
  start: number;
  length: number;
  /** 1 where the position is a prompt token. */
  fixed: number[];
  states: TrajectoryState[];
  /** Generated tokens the block added to the output. */
  tokens: number[];
}

export interface TrajectoryJSON {
  version: 1;
  maskId: number;
  prompt: number[];
  blocks: BlockTrajectory[];
  /** The generated tokens and the run's stats, once the run ended. */
  output: number[] | null;
  stats: DecodeStats | null;
}

export class TrajectoryRecorder {
  readonly blocks: BlockTrajectory[] = [];
  output: number[] | null = null;
  stats: DecodeStats | null = null;

  constructor(
    readonly maskId: number,
    readonly prompt: number[] = [],
  ) {}

  /** A listener to pass as onEvent (bound). */
  readonly listener = (e: DecodeEvent): void => this.onEvent(e);

  onEvent(e: DecodeEvent): void {
    switch (e.type) {
      case 'block_start':
        this.blocks.push({
          block: e.block,
          start: e.start,
          length: e.canvas.length,
          fixed: Array.from(e.fixed),
          states: [
            {
              step: -1,
              phase: 'start',
              ids: Array.from(e.canvas),
              committed: [],
              rewritten: [],
              confidences: [],
              forwards: e.forwards,
            },
          ],
          tokens: [],
        });
        break;
      case 'step':
        this.current(e.block).states.push({
          step: e.step,
          phase: e.phase,
          ids: Array.from(e.canvas),
          committed: e.committed.map((c) => c.index),
          rewritten: e.rewritten.map((r) => r.index),
          confidences: e.committed.map((c) => c.confidence),
          forwards: e.forwards,
        });
        break;
      case 'block_end':
        this.current(e.block).tokens = Array.from(e.tokens);
        break;
      case 'done':
        this.output = Array.from(e.tokens);
        this.stats = { ...e.stats };
        break;
    }
  }

  private current(block: number): BlockTrajectory {
    const t = this.blocks[this.blocks.length - 1];
    if (!t || t.block !== block) throw new Error(`TrajectoryRecorder: event for block ${block} before its block_start`);
    return t;
  }

  /** Number of recorded denoising steps over all blocks. */
  get steps(): number {
    return this.blocks.reduce((s, b) => s + b.states.length - 1, 0);
  }

  toJSON(): TrajectoryJSON {
    return {
      version: 1,
      maskId: this.maskId,
      prompt: [...this.prompt],
      blocks: this.blocks,
      output: this.output,
      stats: this.stats,
    };
  }

  static fromJSON(j: TrajectoryJSON | string): TrajectoryRecorder {
    const o = (typeof j === 'string' ? JSON.parse(j) : j) as TrajectoryJSON;
    if (o.version !== 1 || !Array.isArray(o.blocks))
      throw new Error('TrajectoryRecorder.fromJSON: not a version 1 trajectory');
    const r = new TrajectoryRecorder(o.maskId, o.prompt);
    r.blocks.push(...o.blocks);
    r.output = o.output;
    r.stats = o.stats;
    return r;
  }

  /** Writes the JSON atomically (temp file, then rename). */
  save(path: string): void {
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.toJSON()));
    renameSync(tmp, path);
  }
}
