// Held-out code for the decoding benchmarks (sampler, verify-bound): the texts and the prompt windows,
// so every benchmark decodes the same prompts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * --prompts (.py files or a folder of them), else HumanEval prompts + reference solutions from
 * ../shared/bench-data (code no training set here holds), else /usr/lib/python3.11's first 60 modules.
 */
export function heldOutTexts(root, prompts) {
  if (prompts) {
    const files = statSync(prompts).isDirectory()
      ? readdirSync(prompts, { recursive: true })
          .filter((f) => String(f).endsWith('.py'))
          .sort()
          .map((f) => path.join(prompts, String(f)))
      : [prompts];
    return { source: prompts, texts: files.map((f) => readFileSync(f, 'utf8')) };
  }
  const he = path.join(root, '../shared/bench-data/HumanEval.jsonl.gz');
  if (existsSync(he)) {
    const rows = gunzipSync(readFileSync(he))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    return {
      source: 'HumanEval prompts + reference solutions',
      texts: rows.map((r) => r.prompt + r.canonical_solution),
    };
  }
  const dir = '/usr/lib/python3.11';
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .slice(0, 60);
  return {
    source: `${dir} (first 60 modules; may overlap the training split)`,
    texts: files.map((f) => readFileSync(path.join(dir, f), 'utf8')),
  };
}

/** `samples` prompts of P tokens, evenly spread over `stream`, each with its next `gen` tokens as the truth. */
export function promptWindows(stream, P, gen, samples, fail) {
  const out = [];
  const span = P + gen;
  const n = Math.floor(stream.length / span);
  if (n < 1) fail(`held-out stream of ${stream.length} tokens is shorter than one prompt + continuation (${span})`);
  for (let s = 0; s < samples; s++) {
    const o = Math.floor(((s + 0.5) * n) / samples) * span;
    out.push({ prompt: stream.subarray(o, o + P), truth: stream.subarray(o + P, o + span) });
  }
  return out;
}
