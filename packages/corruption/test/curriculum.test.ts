import { Curriculum } from '../src';

describe('Curriculum', () => {
  it('default: mask only for the first 80% of steps, mask + edit for the last 20%', () => {
    const c = new Curriculum();
    const S = 1000;
    expect(c.firstEditStep(S)).toBe(800);
    expect(c.at(0, S)).toEqual({ stage: 1, mask: 1, edit: 0 });
    expect(c.at(799, S)).toEqual({ stage: 1, mask: 1, edit: 0 });
    expect(c.at(800, S)).toEqual({ stage: 2, mask: 1, edit: 1 });
    expect(c.at(999, S)).toEqual({ stage: 2, mask: 1, edit: 1 });
    let stage2 = 0;
    for (let s = 0; s < S; s++) stage2 += c.at(s, S).edit > 0 ? 1 : 0;
    expect(stage2).toBe(200);
  });

  it('boundaries are exact despite floating point (0.7·10 = 7.000000000000001)', () => {
    const c = new Curriculum({ editStart: 0.7 });
    expect(c.firstEditStep(10)).toBe(7);
    expect(c.at(6, 10).stage).toBe(1);
    expect(c.at(7, 10).stage).toBe(2);
    expect(new Curriculum().firstEditStep(7)).toBe(6); // ⌈5.6⌉
    expect(new Curriculum({ editStart: 0 }).at(0, 5).stage).toBe(2);
    expect(new Curriculum({ editStart: 1 }).at(4, 5).stage).toBe(1);
  });

  it('configurable weights, edit-only stage 2, describe() and toJSON()', () => {
    const c = new Curriculum({ editStart: 0.5, maskWeight: 2, editWeight: 0.25, maskInStage2: false });
    expect(c.at(1, 4)).toEqual({ stage: 1, mask: 2, edit: 0 });
    expect(c.at(2, 4)).toEqual({ stage: 2, mask: 0, edit: 0.25 });
    expect(c.describe(4)).toBe('curriculum over 4 steps: stage 1 steps 0..1 mask×2; stage 2 steps 2..3 edit×0.25');
    expect(new Curriculum().describe()).toMatch(/first 80% .*last 20%/);
    expect(new Curriculum({ editStart: 1 }).describe(3)).toMatch(/stage 2: none/);
    expect(c.toJSON()).toEqual({ editStart: 0.5, maskWeight: 2, editWeight: 0.25, maskInStage2: false });
  });

  it('rejects bad arguments naming them', () => {
    expect(() => new Curriculum({ editStart: 1.2 })).toThrow(/editStart/);
    expect(() => new Curriculum({ editWeight: -1 })).toThrow(/editWeight/);
    expect(() => new Curriculum().at(10, 10)).toThrow(/step/);
    expect(() => new Curriculum().at(0, 0)).toThrow(/totalSteps/);
  });
});
