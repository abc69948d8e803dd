// The suite's card: counts per split, level and family, primitive coverage, and the checks that the
// held-out splits measure generalisation (no shared composition, normalised solution, prompt or
// skeleton with train), computed from the tasks themselves so the card always matches the files.
import { type Split, SPLITS, type Task, normaliseSolution, skeleton } from './generate';

export interface SplitCheck {
  /** Tasks of the split whose held-out unit (levels 2-3: solution skeleton; level 1: solution) occurs in train. */
  sharedCompositions: number;
  /** Tasks whose whitespace-normalised solution (with the helpers the prompt defines) occurs in train. */
  sharedSolutions: number;
  /** Tasks whose prompt occurs in train verbatim. */
  sharedPrompts: number;
  /** Near duplicates: tasks whose solution skeleton (numbers and quoted literals abstracted) occurs in train, by level. */
  sharedSkeletons: Record<string, number>;
}

export interface Card {
  generator: string;
  seed: number;
  command?: string;
  counts: Record<Split, { total: number; byLevel: Record<string, number>; byFamily: Record<string, number> }>;
  compositions: Record<Split, number>;
  /** Tasks per primitive, per split (a test primitive never seen in train would be listed with train 0). */
  coverage: Record<string, Record<Split, number>>;
  asserts: { min: number; mean: number };
  checks: Record<Exclude<Split, 'train'>, SplitCheck> & { duplicatePromptsWithinSplits: number };
  heldOut: string;
  stats?: Record<string, number>;
}

/** The helpers a prompt defines (the text before the entry point's def) + the solution, normalised. */
function program(t: Task): string {
  const at = t.prompt.indexOf(`def ${t.entry_point}(`);
  return normaliseSolution((at > 0 ? t.prompt.slice(0, at) : '') + t.canonical_solution);
}

function unit(t: Task): string {
  return t.held_out_unit ?? `train-only:${t.composition_key}`;
}

function countBy<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function buildCard(
  splits: Record<Split, readonly Task[]>,
  meta: { seed: number; command?: string; stats?: Record<string, number> },
): Card {
  const counts = {} as Card['counts'];
  const compositions = {} as Card['compositions'];
  const coverage: Card['coverage'] = {};
  for (const s of SPLITS) {
    const ts = splits[s];
    counts[s] = {
      total: ts.length,
      byLevel: countBy(ts, (t) => String(t.level)),
      byFamily: countBy(ts, (t) => t.family),
    };
    compositions[s] = new Set(ts.map(unit)).size;
    for (const t of ts)
      for (const p of t.primitives) {
        coverage[p] ??= { train: 0, valid: 0, test: 0 };
        coverage[p][s]++;
      }
  }
  const train = splits.train;
  const trainUnits = new Set(train.map(unit));
  const trainSolutions = new Set(train.map(program));
  const trainPrompts = new Set(train.map((t) => t.prompt));
  const trainSkeletons = new Set(train.map((t) => skeleton(t.canonical_solution)));
  const check = (ts: readonly Task[]): SplitCheck => ({
    sharedCompositions: ts.filter((t) => trainUnits.has(unit(t))).length,
    sharedSolutions: ts.filter((t) => trainSolutions.has(program(t))).length,
    sharedPrompts: ts.filter((t) => trainPrompts.has(t.prompt)).length,
    sharedSkeletons: countBy(
      ts.filter((t) => trainSkeletons.has(skeleton(t.canonical_solution))),
      (t) => `level ${t.level}`,
    ),
  });
  let dup = 0;
  for (const s of SPLITS) dup += splits[s].length - new Set(splits[s].map((t) => t.prompt)).size;
  const all = SPLITS.flatMap((s) => splits[s]);
  return {
    generator: '@seed-diffusion/tasks',
    seed: meta.seed,
    command: meta.command,
    counts,
    compositions,
    coverage: Object.fromEntries(Object.entries(coverage).sort(([a], [b]) => (a < b ? -1 : 1))),
    asserts: {
      min: Math.min(...all.map((t) => t.asserts)),
      mean: Number((all.reduce((a, t) => a + t.asserts, 0) / Math.max(1, all.length)).toFixed(2)),
    },
    checks: { valid: check(splits.valid), test: check(splits.test), duplicatePromptsWithinSplits: dup },
    heldOut:
      "levels 2-3: a test/valid task's composition - its solution's skeleton, with constants, quoted literals and helper names abstracted - never occurs in train; " +
      'level 1 (one primitive): its solution with its constants never occurs in train (e.g. "above 7" held out, "above 3" trained), ' +
      'so a level-1 test solution shares its skeleton with train tasks by design',
    stats: meta.stats,
  };
}

/** The card as Markdown (CARD.md next to the files). */
export function cardMarkdown(c: Card): string {
  const lines: string[] = [];
  lines.push('# Generated task suite', '');
  lines.push(`Generator \`${c.generator}\`, seed ${c.seed}.${c.command ? ` Made by \`${c.command}\`.` : ''}`, '');
  lines.push(
    '| split | tasks | level 1 | level 2 | level 3 | compositions | families |',
    '|---|---|---|---|---|---|---|',
  );
  for (const s of SPLITS) {
    const k = c.counts[s];
    const fam = Object.entries(k.byFamily)
      .map(([f, n]) => `${f} ${n}`)
      .join(', ');
    lines.push(
      `| ${s} | ${k.total} | ${k.byLevel['1'] ?? 0} | ${k.byLevel['2'] ?? 0} | ${k.byLevel['3'] ?? 0} | ${c.compositions[s]} | ${fam} |`,
    );
  }
  lines.push('', `Asserts per task: min ${c.asserts.min}, mean ${c.asserts.mean}.`, '');
  lines.push('## Held-out checks against train', '', c.heldOut, '');
  lines.push(
    '| split | shared compositions | shared normalised solutions | shared prompts | shared skeletons |',
    '|---|---|---|---|---|',
  );
  for (const s of ['valid', 'test'] as const) {
    const x = c.checks[s];
    const sk = Object.entries(x.sharedSkeletons)
      .map(([l, n]) => `${l}: ${n}`)
      .join(', ');
    lines.push(`| ${s} | ${x.sharedCompositions} | ${x.sharedSolutions} | ${x.sharedPrompts} | ${sk || '0'} |`);
  }
  lines.push('', `Duplicate prompts within a split: ${c.checks.duplicatePromptsWithinSplits}.`, '');
  lines.push(
    '## Primitive coverage (tasks using each primitive)',
    '',
    '| primitive | train | valid | test |',
    '|---|---|---|---|',
  );
  for (const [p, n] of Object.entries(c.coverage)) lines.push(`| ${p} | ${n.train} | ${n.valid} | ${n.test} |`);
  return lines.join('\n') + '\n';
}
