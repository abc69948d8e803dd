import { preTokenize } from '../src';
import { regexScanner } from '../src/pretokenize';
import { CL100K_REGEX, GPT2_REGEX, QWEN2_REGEX, referencePreTokenize } from '../src/reference';
import { randomText, randomUnits, rng, stdlibSample } from './helpers';

describe('hand-written pre-tokenizers match the RegExp patterns', () => {
  const cases: [string, 'cl100k' | 'qwen2' | 'gpt2', RegExp][] = [
    ['cl100k', 'cl100k', CL100K_REGEX],
    ['qwen2', 'qwen2', QWEN2_REGEX],
    ['gpt2', 'gpt2', GPT2_REGEX],
  ];
  test.each(cases)('%s on random mixed text (2000 strings)', (_name, kind, re) => {
    const r = rng(1234);
    for (let i = 0; i < 2000; i++) {
      const s = i % 2 ? randomText(r, 1 + Math.floor(r() * 40)) : randomUnits(r, 1 + Math.floor(r() * 30));
      expect(preTokenize(s, kind)).toEqual(referencePreTokenize(s, re));
    }
  });

  test.each(cases)('%s on standard-library files', (_name, kind, re) => {
    for (const { text } of stdlibSample(20, 40000))
      expect(preTokenize(text, kind)).toEqual(referencePreTokenize(text, re));
  });

  test('pieces concatenate back to the input', () => {
    const r = rng(7);
    for (let i = 0; i < 200; i++) {
      const s = randomUnits(r, 50);
      expect(preTokenize(s, 'cl100k').join('')).toBe(s);
    }
  });

  test('regex fallback scanner (unknown patterns) keeps unmatched text as one piece', () => {
    const next = regexScanner('\\p{L}+');
    expect(preTokenize('ab12cd  ef', next)).toEqual(['ab', '12', 'cd', '  ', 'ef']);
    expect(preTokenize('xyz', regexScanner(CL100K_REGEX.source))).toEqual(['xyz']);
  });

  test('code indentation and newlines split the way cl100k does', () => {
    expect(preTokenize('def f(x):\n    return x\n\n\n  y', 'cl100k')).toEqual([
      'def',
      ' f',
      '(x',
      '):\n',
      '   ',
      ' return',
      ' x',
      '\n\n\n',
      ' ',
      ' y',
    ]);
  });
});
