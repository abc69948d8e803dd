import { CL100K_REGEX, referenceEncode } from '../src/reference';
import { encodeWtf8 } from '../src/utf8';
import { cl100kRanks, loadCl100k, randomText, rng, stdlibSample } from './helpers';

const ours = loadCl100k();
// js-tiktoken's types are ESM-only; its CommonJS build is what runs here
const { Tiktoken } = require('js-tiktoken/lite') as {
  Tiktoken: new (r: unknown) => { encode(t: string, a: string[], d: string[]): number[] };
};
const js = new Tiktoken(cl100kRanks);
const rankOf = new Map<string, number>();
for (let id = 0; id < 100256; id++) {
  const b = ours.tokenBytes(id);
  if (b) rankOf.set(String.fromCharCode(...b), id);
}

describe('cl100k_base: identical ids to js-tiktoken', () => {
  const files = stdlibSample(300, 12000);

  test(`${files.length} standard-library files: same ids, exact round trip`, () => {
    expect(files.length).toBeGreaterThanOrEqual(250);
    for (const { path, text } of files) {
      const ids = ours.encode(text);
      const ref = js.encode(text, [], []);
      if (ids.length !== ref.length || ids.some((x, i) => x !== ref[i]))
        throw new Error(`ids differ from js-tiktoken on ${path}`);
      expect(ours.decode(ids)).toBe(text);
    }
  });

  test('random mixed text (no lone surrogates): same ids as js-tiktoken and as the reference BPE', () => {
    const r = rng(99);
    for (let i = 0; i < 500; i++) {
      const s = randomText(r, 1 + Math.floor(r() * 60)).replace(/[\ud800-\udfff]/gu, 'x');
      expect(ours.encode(s)).toEqual(js.encode(s, [], []));
      expect(ours.encode(s)).toEqual(referenceEncode(s, CL100K_REGEX, rankOf));
    }
  });

  test('long pieces (heap merge path) match the reference', () => {
    const r = rng(5);
    for (const len of [129, 300, 2000]) {
      let s = '';
      for (let i = 0; i < len; i++) s += 'abcdefghijklmnopqrstuvwxyz'[Math.floor(r() * 26)];
      expect(ours.encode(s)).toEqual(js.encode(s, [], []));
      const sym = '=-#*'.repeat(len / 4 + 1).slice(0, len);
      expect(ours.encode(sym)).toEqual(js.encode(sym, [], []));
      expect(ours.encode(' '.repeat(len) + 'x')).toEqual(js.encode(' '.repeat(len) + 'x', [], []));
    }
  });

  test('lone surrogates are kept (WTF-8) rather than replaced', () => {
    const s = 'a\ud800b\udfff';
    expect(ours.decode(ours.encode(s))).toBe(s);
    expect(ours.decodeBytes(ours.encode(s))).toEqual(encodeWtf8(s));
  });
});
