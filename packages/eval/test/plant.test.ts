import {
  BUG_KINDS,
  applyBug,
  bugCandidates,
  editTasksToJsonl,
  parseEditTasks,
  plantBugs,
  programFor,
  referenceEditGenerator,
  runEditing,
  runProgram,
  unchangedEditGenerator,
} from '../src';

import { PY_TASKS } from './fixtures';

test('the rules find every kind of bug in the fixture solutions', () => {
  const kinds = new Set(PY_TASKS.flatMap((t) => bugCandidates(t.prompt, t.canonicalSolution!).map((c) => c.kind)));
  expect([...kinds].sort()).toEqual([...BUG_KINDS].sort());
  const [sumBelow, pairwise] = PY_TASKS;
  const rules = (t: (typeof PY_TASKS)[number]) =>
    bugCandidates(t.prompt, t.canonicalSolution!).map((c) => `${c.kind}: ${c.rule}`);
  expect(rules(sumBelow)).toEqual(
    expect.arrayContaining([
      'compare: `<` -> `<=`',
      'arith: `+=` -> `-=`',
      'wrong_variable: `x` -> `limit`',
      'dropped_line: drop `total = 0`',
    ]),
  );
  // never a return, never the only statement of a block
  expect(rules(sumBelow)).not.toContain('dropped_line: drop `return total`');
  expect(rules(sumBelow)).not.toContain('dropped_line: drop `total += x`');
  expect(rules(pairwise)).toEqual(
    expect.arrayContaining([
      'off_by_one: range stop `len(xs) - 1` -> `len(xs)`',
      'off_by_one: index `i + 1` -> `i`',
      'off_by_one: index `i` -> `i + 1`',
    ]),
  );
  // strings and comments are never touched
  expect(bugCandidates('def f(s):\n', '    # a < b\n    return s + "a<b"\n')).toEqual([]);
});

test('planted bugs are reproducible from the seed; each variant fails and its fix passes', async () => {
  const a = await plantBugs(PY_TASKS, { seed: 11 });
  const b = await plantBugs(PY_TASKS, { seed: 11 });
  expect(a.tasks.length).toBe(PY_TASKS.length);
  expect(editTasksToJsonl(b.tasks)).toBe(editTasksToJsonl(a.tasks));
  for (const t of a.tasks) {
    const src = PY_TASKS.find((x) => x.taskId === t.sourceTaskId)!;
    expect(t.before).not.toBe(t.after);
    expect(t.after).toBe(src.prompt + src.canonicalSolution);
    expect(t.plant.seed).toBe(11);
    // replaying the recorded rule on the reference gives the broken program
    const replay = applyBug(src.canonicalSolution!, { ...t.bug, length: t.bug.from.length, replacement: t.bug.to });
    expect(src.prompt + replay).toBe(t.before);
    const broken = await runProgram(programFor('python', t.before, t.test, t.entryPoint));
    const fixed = await runProgram(programFor('python', t.after, t.test, t.entryPoint));
    expect(broken.status).not.toBe('passed');
    expect(fixed.status).toBe('passed');
  }
  const again = parseEditTasks(editTasksToJsonl(a.tasks));
  expect(again).toEqual(a.tasks);
});

test('editing is scored by running the tests: the fixes pass, the unchanged programs fail', async () => {
  const { tasks } = await plantBugs(PY_TASKS, { seed: 3 });
  const ok = await runEditing(tasks, { generator: referenceEditGenerator(tasks), benchmark: 'plant' });
  expect(ok.passAtK['1']).toBe(1);
  expect(ok.kind).toBe('edit');
  const same = await runEditing(tasks, { generator: unchangedEditGenerator(tasks), benchmark: 'plant' });
  expect(same.passAtK['1']).toBe(0);
});

test('tasks whose reference fails are skipped with the reason', async () => {
  const broken = { ...PY_TASKS[0], taskId: 'Fix/broken', canonicalSolution: '    return -1\n' };
  const r = await plantBugs([broken], { seed: 1 });
  expect(r.tasks).toEqual([]);
  expect(r.skipped[0].reason).toMatch(/reference solution does not pass/);
  await expect(plantBugs(PY_TASKS, { seed: 1.5 })).rejects.toThrow(/seed must be an integer/);
});
