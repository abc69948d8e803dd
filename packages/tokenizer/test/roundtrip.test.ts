import { Tokenizer } from '../src';
import { decodeWtf8, encodeWtf8 } from '../src/utf8';
import { loadCl100k, randomText, randomUnits, rng, sameIds, stdlibSample } from './helpers';

const cl = loadCl100k();
const small = Tokenizer.train(
  stdlibSample(40, 20000).map((f) => f.text),
  { vocabSize: 600 },
);

describe.each([
  ['cl100k', cl],
  ['trained 600', small],
])('%s: exact round trips', (_name, tok) => {
  test('random code units including lone surrogates: decode(encode(x)) === x', () => {
    const r = rng(11);
    for (let i = 0; i < 400; i++) {
      const s = i % 2 ? randomUnits(r, Math.floor(r() * 80)) : randomText(r, Math.floor(r() * 40));
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  test('random byte arrays: decodeBytes(encodeBytes(b)) equals b', () => {
    const r = rng(12);
    for (let i = 0; i < 300; i++) {
      const b = new Uint8Array(Math.floor(r() * 100));
      for (let k = 0; k < b.length; k++) b[k] = r() < 0.3 ? Math.floor(r() * 256) : 32 + Math.floor(r() * 95);
      expect(tok.decodeBytes(tok.encodeBytes(b))).toEqual(b);
    }
  });

  test('encodeBytes of valid UTF-8 equals encode of the text', () => {
    const r = rng(13);
    for (let i = 0; i < 300; i++) {
      const s = randomText(r, 30).replace(/[\ud800-\udfff]/gu, 'q');
      expect(tok.encodeBytes(new TextEncoder().encode(s))).toEqual(tok.encode(s));
    }
  });

  test('encodeStream over arbitrary chunking equals encode of the whole', async () => {
    const r = rng(14);
    const text = stdlibSample(5, 30000)
      .map((f) => f.text)
      .join('\n  \n')
      .concat(randomText(r, 300));
    for (let trial = 0; trial < 3; trial++) {
      const chunks: string[] = [];
      for (let p = 0; p < text.length;) {
        const n = 1 + Math.floor(r() * 500);
        chunks.push(text.slice(p, p + n));
        p += n;
      }
      const got: number[] = [];
      for await (const ids of tok.encodeStream(chunks)) got.push(...ids);
      expect(sameIds(got, tok.encode(text))).toBe(true);
    }
  });

  test('encodeBatch equals encode per text', () => {
    const texts = ['def f():\n    pass\n', '', 'x = 1  # é 😀'];
    expect(tok.encodeBatch(texts)).toEqual(texts.map((t) => tok.encode(t)));
  });

  test('offsets: each token spans the characters its bytes come from', () => {
    const r = rng(15);
    for (let i = 0; i < 200; i++) {
      const s = randomText(r, 20);
      const { ids, offsets } = tok.encodeWithOffsets(s);
      expect(ids).toEqual(tok.encode(s));
      let prevEnd = 0;
      for (let k = 0; k < ids.length; k++) {
        const [a, b] = offsets[k];
        expect(a).toBeLessThanOrEqual(b);
        expect(a).toBeGreaterThanOrEqual(prevEnd - 2); // a token inside a character shares it with its neighbour
        prevEnd = b;
        // a token whose bytes are whole characters decodes to exactly its span
        const piece = tok.decode([ids[k]]);
        if (!piece.includes('\ufffd') && encodeWtf8(piece).length === tok.tokenBytes(ids[k])!.length)
          expect(s.slice(a, b)).toBe(piece);
      }
      expect(offsets.length ? offsets[offsets.length - 1][1] : 0).toBe(s.length);
    }
  });
});

test('WTF-8 helpers: lone surrogates survive, invalid bytes become U+FFFD', () => {
  expect(decodeWtf8(encodeWtf8('\udc00x\ud83d'))).toBe('\udc00x\ud83d');
  expect(decodeWtf8(new Uint8Array([0x61, 0xff, 0x62]))).toBe('a\ufffdb');
});

test('decode rejects an id outside the vocabulary, naming it', () => {
  expect(() => cl.decode([1, 999999])).toThrow(/id 999999 at position 1/);
});
