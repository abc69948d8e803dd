// Prompt sets for the decoding benchmarks (sampler, verify-bound), so every benchmark decodes the same
// prompts under one rule (BENCHMARKS.md, "The rule"):
//   - one document per window: a window is a prompt of P tokens and the next `gen` tokens of the same
//     problem or file, never text that runs across two of them;
//   - enough of them: `count` windows per length (default 64), each from a different document;
//   - a tuning set and a reporting set that share no document. Every document goes to one of them by a
//     hash of its name (a third to tuning), and HumanEval — where the verify mode's constants were tuned
//     on the old concatenated windows — goes to tuning whole. Constants are tuned on `tuning`; figures
//     are reported on `reporting`.
// Short windows come from the benchmark problems in ../shared/bench-data (prompt + reference solution;
// code no training split here holds). No problem there is long enough for a 1024-token prompt (the
// longest MBPP/HumanEval prompt + solution is a few hundred tokens), so long windows come from single
// Python files no training split here holds: Debian's python3-torch sources (a pinned package, the same
// files on every machine that installs it; the models here were trained on /usr/lib/python3.11), else
// the rest of /usr/lib/python3/dist-packages, else --prompts files.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Fraction of documents in the tuning set (by hash of their name). */
const TUNING_SHARE = 1 / 3;

/** FNV-1a of a document's name, as a number in [0, 1): which set it belongs to. */
function unit(name) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}

/** Which set a document belongs to. */
export function setOf(name) {
  return name.startsWith('HumanEval/') || unit(name) < TUNING_SHARE ? 'tuning' : 'reporting';
}

function readJsonl(file) {
  const raw = readFileSync(file);
  const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return text
    .trim()
    .split('\n')
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not a JSON line (${e.message})`, { cause: e });
      }
    });
}

/** Benchmark problems (prompt + reference solution), one document each: HumanEval, then MBPP. */
function problems(root) {
  const dir = path.join(root, '../shared/bench-data');
  const out = [];
  const he = path.join(dir, 'HumanEval.jsonl.gz');
  if (existsSync(he))
    for (const r of readJsonl(he)) out.push({ name: r.task_id, text: r.prompt + r.canonical_solution });
  const mbpp = path.join(dir, 'mxeval_mbpp_release_v1.jsonl');
  if (existsSync(mbpp)) {
    for (const r of readJsonl(mbpp)) {
      if (r.canonical_solution) out.push({ name: r.task_id, text: r.prompt + r.canonical_solution });
    }
  }
  return { source: '../shared/bench-data HumanEval + MBPP (prompt + reference solution)', docs: out };
}

function walkPy(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue; // a dangling link
    }
    if (st.isDirectory()) {
      if (name !== '__pycache__') walkPy(p, out);
    } else if (name.endsWith('.py')) out.push(p);
  }
  return out;
}

/** Long single files: --prompts, else python3-torch's sources, else the rest of dist-packages. */
function files(prompts) {
  let dir;
  let source;
  if (prompts) {
    if (!existsSync(prompts)) throw new Error(`--prompts ${prompts}: no such file or folder`);
    if (!statSync(prompts).isDirectory()) {
      return { source: prompts, docs: [{ name: path.basename(prompts), text: readFileSync(prompts, 'utf8') }] };
    }
    dir = prompts;
    source = `${prompts} (.py files)`;
  } else if (existsSync('/usr/lib/python3/dist-packages/torch')) {
    dir = '/usr/lib/python3/dist-packages/torch';
    source = `${dir}/**/*.py (Debian python3-torch sources, one window per file)`;
  } else if (existsSync('/usr/lib/python3/dist-packages')) {
    dir = '/usr/lib/python3/dist-packages';
    source = `${dir}/**/*.py (no python3-torch: this machine's packages, one window per file)`;
  } else {
    return { source: 'none', docs: [] };
  }
  const docs = [];
  for (const f of walkPy(dir)) {
    // Files shorter than ~4 KB cannot hold a 1024-token prompt and its continuation.
    if (statSync(f).size < 4096 && !prompts) continue;
    docs.push({ name: path.relative(dir, f), text: readFileSync(f, 'utf8') });
  }
  return { source, docs };
}

/**
 * A window of `span` tokens from one document: problems from their start (the task's signature and
 * docstring lead), files from the line nearest their middle (past the licence header and imports).
 */
function windowOf(doc, tokenizer, span, fromStart) {
  if (fromStart) {
    const ids = tokenizer.encode(doc.text);
    return ids.length >= span ? ids.slice(0, span) : null;
  }
  const all = tokenizer.encode(doc.text);
  if (all.length < span) return null;
  const charsPerToken = doc.text.length / all.length;
  const want = Math.max(0, Math.floor(doc.text.length / 2 - (span * charsPerToken) / 2));
  let start = doc.text.lastIndexOf('\n', want);
  start = start < 0 ? 0 : start + 1;
  let ids = tokenizer.encode(doc.text.slice(start));
  if (ids.length < span) ids = all.slice(all.length - span); // the tail of a file with a long last part
  return ids.slice(0, span);
}

/**
 * `count` windows of a prompt of P tokens + `gen` true next tokens, each from a different document of
 * set `which` ('reporting' or 'tuning'), spread evenly over the documents long enough (in name order).
 * Returns { source, set, documents (eligible), windows: [{ name, prompt, truth }], digest }.
 */
export function promptSet(root, tokenizer, { P, gen, count = 64, which = 'reporting', prompts = null, eosId, maskId }) {
  if (which !== 'reporting' && which !== 'tuning') throw new Error(`--set must be reporting or tuning, got ${which}`);
  const span = P + gen;
  const pick = (pool, fromStart) => {
    const eligible = [];
    for (const d of pool.docs.slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (!prompts && setOf(d.name) !== which) continue;
      // Cheap bound first: a token is at least one character here.
      if (d.text.length < span) continue;
      const ids = windowOf(d, tokenizer, span, fromStart);
      if (ids) eligible.push({ name: d.name, ids });
    }
    return eligible;
  };
  let pool = prompts ? null : problems(root);
  let eligible = pool ? pick(pool, true) : [];
  if (eligible.length < count) {
    pool = files(prompts);
    eligible = pick(pool, false);
  }
  if (eligible.length === 0) {
    throw new Error(
      `no document of ${pool.source} (${which} set) holds ${span} tokens (prompt ${P} + ${gen} new); ` +
        'pass --prompts DIR with longer .py files or a smaller --gen',
    );
  }
  const n = Math.min(count, eligible.length);
  const windows = [];
  const hash = createHash('sha256');
  for (let s = 0; s < n; s++) {
    const e = eligible[Math.floor(((s + 0.5) * eligible.length) / n)];
    const ids = Int32Array.from(e.ids, (t) => (t === maskId ? eosId : t)); // [MASK] never appears in a prompt
    hash.update(e.name).update(Buffer.from(ids.buffer));
    windows.push({ name: e.name, prompt: ids.subarray(0, P), truth: ids.subarray(P) });
  }
  return {
    source: pool.source,
    set: prompts ? 'given' : which,
    documents: eligible.length,
    windows,
    digest: hash.digest('hex').slice(0, 12),
  };
}

/** Texts to train a throwaway tokenizer on (--random-init): the problems, else the long files. */
export function someTexts(root, prompts, n = 200) {
  const p = prompts ? files(prompts) : problems(root);
  const docs = p.docs.length ? p.docs : files(null).docs;
  return docs.slice(0, n).map((d) => d.text);
}
