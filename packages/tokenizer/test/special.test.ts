import { SPECIAL_TOKENS, Tokenizer } from '../src';
import { loadCl100k, stdlibSample } from './helpers';

const cl = loadCl100k();
const trained = Tokenizer.train(
  stdlibSample(20, 20000).map((f) => f.text),
  { vocabSize: 400 },
);

describe.each([
  ['cl100k', cl],
  ['trained', trained],
])('%s special tokens', (_name, tok) => {
  test('every seed-diffusion special token has an id, outside the ordinary vocabulary', () => {
    for (const name of Object.keys(SPECIAL_TOKENS) as (keyof typeof SPECIAL_TOKENS)[]) {
      const id = tok.specialTokenId(name);
      expect(id).toBeDefined();
      expect(tok.idToToken(id!)).toBe(SPECIAL_TOKENS[name]);
      expect(tok.tokenToId(SPECIAL_TOKENS[name])).toBe(id);
      expect(id!).toBeLessThan(tok.vocabSize);
    }
  });

  test('literal special text is ordinary text unless allowed', () => {
    const s = `a${SPECIAL_TOKENS.eos}b${SPECIAL_TOKENS.mask}`;
    const specialIds = new Set(tok.specialTokens.values());
    const plain = tok.encode(s);
    expect(plain.some((id) => specialIds.has(id))).toBe(false);
    expect(tok.decode(plain)).toBe(s);
    const all = tok.encode(s, { allowedSpecial: 'all' });
    expect(all).toEqual([
      ...tok.encode('a'),
      tok.specialTokenId('eos'),
      ...tok.encode('b'),
      tok.specialTokenId('mask'),
    ]);
    expect(tok.decode(all)).toBe(s);
    const onlyMask = tok.encode(s, { allowedSpecial: [SPECIAL_TOKENS.mask] });
    expect(onlyMask).toEqual([...tok.encode(`a${SPECIAL_TOKENS.eos}b`), tok.specialTokenId('mask')]);
    expect(tok.decode(all, { skipSpecial: true })).toBe('ab');
  });

  test('random ordinary text never yields a special id', () => {
    const specialIds = new Set(tok.specialTokens.values());
    for (const { text } of stdlibSample(10, 20000))
      expect(tok.encode(text).some((id) => specialIds.has(id))).toBe(false);
  });

  test('allowedSpecial naming an unknown token is an error', () => {
    expect(() => tok.encode('x', { allowedSpecial: ['<|nope|>'] })).toThrow(/<\|nope\|>/);
  });
});

test('cl100k keeps its own special ids and appends the missing seed-diffusion ones', () => {
  expect(cl.specialTokenId('eos')).toBe(100257);
  expect(cl.specialTokenId('fimPrefix')).toBe(100258);
  expect(cl.specialTokenId('mask')).toBe(100277);
  expect(cl.specialTokenId('pad')).toBe(100278);
  expect(cl.vocabSize).toBe(100279);
});
