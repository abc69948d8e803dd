import { Tokenizer, learnMerges, PreTokenCounter } from '../src';
import type { Merge } from '../src/bpe';
import { encodeWtf8 } from '../src/utf8';
import { stdlibSample } from './helpers';

const corpus = stdlibSample(80, 20000).map((f) => f.text);

/** Naive trainer: recount every pair from scratch before each merge; same tie rule (count, then smaller pair). */
function referenceMerges(counts: Map<string, number>, wanted: number): [number, number][] {
  const words = [...counts].map(([w, c]) => ({ s: Array.from(encodeWtf8(w)), c }));
  const out: [number, number][] = [];
  for (let z = 256; out.length < wanted; z++) {
    const pc = new Map<string, number>();
    for (const { s, c } of words)
      for (let i = 0; i + 1 < s.length; i++) pc.set(`${s[i]},${s[i + 1]}`, (pc.get(`${s[i]},${s[i + 1]}`) ?? 0) + c);
    let best: [number, number] | null = null;
    let bestC = 0;
    for (const [k, c] of pc) {
      const [a, b] = k.split(',').map(Number);
      if (c > bestC || (c === bestC && best !== null && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestC = c;
      }
    }
    if (best === null) break;
    out.push(best);
    for (const w of words) {
      const t: number[] = [];
      for (let i = 0; i < w.s.length; i++) {
        if (i + 1 < w.s.length && w.s[i] === best[0] && w.s[i + 1] === best[1]) {
          t.push(z);
          i++;
        } else t.push(w.s[i]);
      }
      w.s = t;
    }
  }
  return out;
}

describe('BPE training', () => {
  test('incremental trainer learns exactly the merges of the naive reference', () => {
    const counter = new PreTokenCounter('cl100k');
    for (const t of corpus.slice(0, 15)) counter.add(t);
    const fast = learnMerges(counter.counts, 120, 1).map((m: Merge) => [m.left, m.right]);
    expect(fast).toEqual(referenceMerges(counter.counts, 120));
  });

  test('reaches the requested vocabulary size, specials at the end', () => {
    const progress: [number, number, string][] = [];
    const tok = Tokenizer.train(corpus, { vocabSize: 2000, onProgress: (d, t, p) => progress.push([d, t, p]) });
    expect(tok.vocabSize).toBe(2000);
    expect(tok.specialTokenId('eos')).toBe(2000 - 6);
    expect(progress.some((p) => p[2] === 'count')).toBe(true);
    expect(progress[progress.length - 1]).toEqual([2000 - 256 - 6, 2000 - 256 - 6, 'merge']);
    // a learned vocabulary compresses code: well under one token per 2 bytes
    const text = corpus.join('');
    expect(tok.encode(text).length).toBeLessThan(Buffer.byteLength(text) / 2.5);
  });

  test('deterministic: same corpus and size give identical merges and ids', () => {
    const a = Tokenizer.train(corpus, { vocabSize: 1500 });
    const b = Tokenizer.train(corpus, { vocabSize: 1500 });
    expect(JSON.stringify(a.toHFJson())).toBe(JSON.stringify(b.toHFJson()));
  });

  test('async training from file paths equals training from the texts', async () => {
    const files = stdlibSample(10, 20000);
    const fromFiles = await Tokenizer.trainAsync(
      files.map((f) => f.path),
      { vocabSize: 500, files: true },
    );
    async function* gen() {
      for (const f of files) yield f.text;
    }
    const fromAsync = await Tokenizer.trainAsync(gen(), { vocabSize: 500 });
    const fromSync = Tokenizer.train(
      files.map((f) => f.text),
      { vocabSize: 500 },
    );
    expect(fromFiles.toHFJson()).toEqual(fromSync.toHFJson());
    expect(fromAsync.toHFJson()).toEqual(fromSync.toHFJson());
  });

  test('a tiny corpus stops early instead of inventing merges; bad sizes are errors', () => {
    const tok = Tokenizer.train(['ab ab'], { vocabSize: 5000 });
    expect(tok.vocabSize).toBeLessThan(5000);
    expect(tok.decode(tok.encode('ab ab abc'))).toBe('ab ab abc');
    expect(() => Tokenizer.train(['x'], { vocabSize: 100 })).toThrow(/vocabSize must be an integer >= 262/);
  });
});
