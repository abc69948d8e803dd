import { checkInt, checkReal } from './validate';

// Seed Diffusion's two-stage curriculum (paper §3.1, docs/techniques.md §3.1): the first 80% of diffusion
// training steps use the mask process only; the last 20% add the edit process, both terms in the loss.
// Steps are 0-based: step s of S is in stage 2 when s >= firstEditStep(S) = ⌈editStart·S⌉.

export interface CurriculumOptions {
  /** Fraction of the steps after which the edit term is added (default 0.8). */
  editStart?: number;
  /** Weight of the mask term (default 1). */
  maskWeight?: number;
  /** Weight λ_edit of the edit term in stage 2 (default 1). */
  editWeight?: number;
  /** Keep the mask term in stage 2 (default true, as the paper; false gives an edit-only stage 2). */
  maskInStage2?: boolean;
}

export interface CurriculumTerms {
  stage: 1 | 2;
  /** Weight of each loss term at this step (0 = inactive). */
  mask: number;
  edit: number;
}

export class Curriculum {
  readonly editStart: number;
  readonly maskWeight: number;
  readonly editWeight: number;
  readonly maskInStage2: boolean;

  constructor(opts: CurriculumOptions = {}) {
    this.editStart = checkReal('editStart', opts.editStart ?? 0.8, 0, 1);
    this.maskWeight = checkReal('maskWeight', opts.maskWeight ?? 1, 0);
    this.editWeight = checkReal('editWeight', opts.editWeight ?? 1, 0);
    this.maskInStage2 = opts.maskInStage2 ?? true;
  }

  /** First 0-based step of stage 2 for a run of totalSteps (totalSteps when stage 2 is empty). */
  firstEditStep(totalSteps: number): number {
    checkInt('totalSteps', totalSteps, 1);
    const x = this.editStart * totalSteps;
    const r = Math.round(x);
    // 0.7·10 is 7.000000000000001 in floating point: snap values within rounding error of an integer.
    return Math.abs(x - r) <= 1e-9 * Math.max(1, totalSteps) ? r : Math.ceil(x);
  }

  at(step: number, totalSteps: number): CurriculumTerms {
    checkInt('totalSteps', totalSteps, 1);
    checkInt('step', step, 0, totalSteps - 1);
    if (step < this.firstEditStep(totalSteps)) return { stage: 1, mask: this.maskWeight, edit: 0 };
    return { stage: 2, mask: this.maskInStage2 ? this.maskWeight : 0, edit: this.editWeight };
  }

  describe(totalSteps?: number): string {
    const pct = (v: number) => `${+(v * 100).toFixed(4)}%`;
    const s2 = `${this.maskInStage2 ? `mask×${this.maskWeight} + ` : ''}edit×${this.editWeight}`;
    if (totalSteps === undefined) {
      return `curriculum: stage 1 (first ${pct(this.editStart)} of steps) mask×${this.maskWeight}; stage 2 (last ${pct(1 - this.editStart)}) ${s2}`;
    }
    const f = this.firstEditStep(totalSteps);
    const one = f === 0 ? 'stage 1: none' : `stage 1 steps 0..${f - 1} mask×${this.maskWeight}`;
    const two = f === totalSteps ? 'stage 2: none' : `stage 2 steps ${f}..${totalSteps - 1} ${s2}`;
    return `curriculum over ${totalSteps} steps: ${one}; ${two}`;
  }

  toJSON(): Required<CurriculumOptions> {
    return {
      editStart: this.editStart,
      maskWeight: this.maskWeight,
      editWeight: this.editWeight,
      maskInStage2: this.maskInStage2,
    };
  }
}
