// A training/evaluation graph for fixed (B, T, R): activations for B sequences of T rows,
// a loss over R gathered rows, and the backward into a flat gradient buffer.
import type { Backend, MaskKind, Tensor } from '@seed-diffusion/native';

import type { Activations, GradScratch } from './activations';
import { allocActivations, allocGradScratch } from './activations';
import { backwardTrunk } from './backward';
import type { ModelConfig } from './config';
import { forwardTrunk } from './forward';
import type { HeadBuffers } from './layers/head';
import { headBackward, headForward } from './layers/head';
import type { ParamViews } from './params';
import type { Topology } from './topology';
import { batchTopology } from './topology';

/** One batch as the graph consumes it. */
export interface GraphBatch {
  /** Token ids [B·T]. */
  ids: Int32Array;
  /** RoPE positions [B·T]. */
  pos: Int32Array;
  /** Hidden row of each loss row [R] (null: identity, R = B·T). */
  src: Int32Array | null;
  /** Target token of each loss row [R]. */
  targets: Int32Array;
  /** Loss weight of each row [R]; the batch loss is Σ weights·CE. */
  weights: Float32Array;
  /** Attention topology applied within each sequence. */
  mask: { mask: MaskKind; block?: number; origin?: number };
  /**
   * A custom objective over the loss rows' logits [R, V]: returns the loss and, when dlogits is
   * given, writes ∂loss/∂logits into it (it may alias logits). Default: Σ weights·CE via the
   * native xent op with [MASK] at −∞ (targets/weights above).
   */
  objective?: Objective;
}

/** A training objective: logits → (loss, dlogits). */
export type Objective = (logits: Tensor, dlogits: Tensor | null, rows: number, vocab: number) => number;

export interface GraphResult {
  /** Σ_r weights[r]·CE[r]. */
  loss: number;
  /** Unweighted CE of every loss row [R] (a copy; empty with a custom objective). */
  rowLoss: Float32Array;
}

export class TrainGraph {
  readonly N: number;
  private readonly acts: Activations;
  private scratch: GradScratch | null = null;
  private readonly hb: HeadBuffers;
  private readonly targets: Tensor;
  private readonly weights: Tensor;
  private readonly loss: Tensor;
  private dhsel: Tensor | null = null;

  constructor(
    private readonly b: Backend,
    private readonly c: ModelConfig,
    readonly B: number,
    readonly T: number,
    readonly R: number,
  ) {
    this.N = B * T;
    this.acts = allocActivations(b, c, this.N, true);
    this.hb = { src: b.i32(R), hsel: b.f32(R * c.hiddenSize), logits: b.f32(R * c.vocabSize) };
    this.targets = b.i32(R);
    this.weights = b.f32(R);
    this.loss = b.f32(R);
  }

  /** Frees the graph's activations and scratch (backend memory); harmless twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const { hb } = this;
    const scratch = this.scratch ? Object.values(this.scratch) : [];
    const rest = [hb.src, hb.hsel, hb.logits, this.targets, this.weights, this.loss];
    for (const t of [...this.acts.owned, ...rest, ...scratch]) this.b.free(t);
    if (this.dhsel) this.b.free(this.dhsel);
    this.scratch = null;
    this.dhsel = null;
  }
  private disposed = false;

  /**
   * Forward + loss; with grads, also the backward, accumulating into grads (scaled by
   * gradScale through the loss gradient).
   */
  run(p: ParamViews, batch: GraphBatch, grads: ParamViews | null, gradScale = 1): GraphResult {
    const { b, c, N, R } = this;
    const d = c.hiddenSize;
    if (batch.ids.length !== N || batch.pos.length !== N) {
      throw new Error(`TrainGraph: ids/pos must hold B·T = ${N} values, got ${batch.ids.length}/${batch.pos.length}`);
    }
    if (!batch.objective && (batch.targets.length !== R || batch.weights.length !== R)) {
      throw new Error(`TrainGraph: targets/weights must hold R = ${R} values`);
    }
    if (batch.src ? batch.src.length !== R : R !== N) throw new Error(`TrainGraph: src must hold R = ${R} rows`);
    b.write(this.acts.ids, batch.ids);
    b.write(this.acts.pos, batch.pos);
    const kvd = c.numKvHeads * c.headDim;
    const topo: Topology = batchTopology(
      (l) => this.acts.layers[l].k,
      (l) => this.acts.layers[l].v,
      this.B,
      this.T,
      kvd,
      batch.mask,
    );
    forwardTrunk(b, c, p, this.acts, N, topo, grads !== null);
    const hb: HeadBuffers = { ...this.hb, src: batch.src ? this.hb.src : null };
    if (batch.src) b.write(this.hb.src as Tensor, batch.src);
    headForward(b, c, p.norm, p.head, this.acts.xOut, this.acts.lnf, this.acts.rstdf, N, R, hb);
    let loss = 0;
    let rowLoss: Float32Array = new Float32Array(0);
    if (batch.objective) {
      loss = batch.objective(hb.logits, grads ? hb.logits : null, R, c.vocabSize);
      if (grads && gradScale !== 1) b.scale(hb.logits, gradScale, R * c.vocabSize);
    } else {
      b.write(this.targets, batch.targets);
      b.write(this.weights, batch.weights);
      b.xent(
        hb.logits,
        this.targets,
        this.weights,
        this.loss,
        grads ? hb.logits : null,
        R,
        c.vocabSize,
        c.maskTokenId,
        gradScale,
      );
      rowLoss = this.loss.toArray() as Float32Array;
      for (let r = 0; r < R; r++) if (batch.weights[r] !== 0) loss += batch.weights[r] * rowLoss[r];
    }
    if (grads) {
      this.scratch ??= allocGradScratch(b, c, N);
      this.dhsel ??= b.f32(R * d);
      const g = this.scratch;
      headBackward(
        b,
        c,
        p.norm,
        p.head,
        grads.norm,
        grads.head,
        this.acts.xOut,
        this.acts.lnf,
        this.acts.rstdf,
        N,
        R,
        hb,
        this.dhsel,
        g.dln,
        g.dx,
      );
      backwardTrunk(b, c, p, grads, this.acts, g, N, topo);
    }
    return { loss, rowLoss };
  }

  /** The logits of the last run [R, V] (a view; overwritten by the backward's dlogits when grads were given). */
  get logits(): Tensor {
    return this.hb.logits;
  }
}
