import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Tokenizer } from '../src';
import { sameIds, stdlibSample } from './helpers';

const corpus = stdlibSample(60, 20000).map((f) => f.text);
const trained = Tokenizer.train(corpus, { vocabSize: 1000 });
const trainedGpt2 = Tokenizer.train(corpus, { vocabSize: 700, preTokenizer: 'gpt2' });
const check = stdlibSample(40, 30000).map((f) => f.text);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function clone(t: Tokenizer): Json {
  return JSON.parse(JSON.stringify(t.toHFJson()));
}

describe('tokenizer.json round trip', () => {
  test.each([
    ['trained cl100k-split', trained],
    ['trained gpt2-split', trainedGpt2],
  ])('%s: save -> load gives the same ids and vocabulary', (_n, tok) => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    const path = join(dir, 'tokenizer.json');
    tok.save(path);
    const back = Tokenizer.load(path);
    expect(back.vocabSize).toBe(tok.vocabSize);
    for (const t of check) expect(sameIds(back.encode(t), tok.encode(t))).toBe(true);
    expect(back.toHFJson()).toEqual(JSON.parse(readFileSync(path, 'utf8')));
  });

  test('@huggingface/tokenizers loads our file and gives the same ids', () => {
    const { Tokenizer: HF } = require('@huggingface/tokenizers');
    for (const tok of [trained, trainedGpt2]) {
      const hf = new HF(clone(tok), {});
      for (const t of check) expect(sameIds(hf.encode(t, { add_special_tokens: false }).ids, tok.encode(t))).toBe(true);
      const ids = tok.encode(check[0]);
      expect(hf.decode(ids, { clean_up_tokenization_spaces: false })).toBe(tok.decode(ids));
    }
  });
});

describe('malformed tokenizer.json: the error names the field', () => {
  const cases: [string, (j: Json) => void, RegExp][] = [
    ['missing model', (j) => delete j.model, /model: missing field/],
    ['missing model.type', (j) => delete j.model.type, /model\.type: missing field/],
    ['unknown model type', (j) => (j.model.type = 'WordPiece'), /model\.type: unsupported model type "WordPiece"/],
    ['missing vocab', (j) => delete j.model.vocab, /model\.vocab: missing field/],
    ['missing merges', (j) => delete j.model.merges, /model\.merges: missing field/],
    [
      'merge with unknown token',
      (j) => (j.model.merges[5] = 'Ġzzzqqq xx'),
      /model\.merges\[5\]: refers to unknown token "Ġzzzqqq"/,
    ],
    [
      'merge result not in vocab',
      (j) => (j.model.merges[3] = 'Ā Ā'),
      /model\.merges\[3\]: merged token "ĀĀ" is not in model\.vocab/,
    ],
    ['bad merge shape', (j) => (j.model.merges[0] = 42), /model\.merges\[0\]/],
    ['missing byte token', (j) => delete j.model.vocab['Ā'], /model\.vocab: no token for byte 0x00/],
    [
      'non-byte-level vocab entry',
      (j) => (j.model.vocab['日本'] = 99999),
      /model\.vocab\["日本"\]: not a byte-level token/,
    ],
    ['bad vocab id', (j) => (j.model.vocab['a'] = -3), /model\.vocab\["a"\]: id is not a non-negative integer/],
    ['missing pre_tokenizer', (j) => delete j.pre_tokenizer, /pre_tokenizer: missing field/],
    [
      'unknown pre_tokenizer',
      (j) => (j.pre_tokenizer = { type: 'Whitespace' }),
      /pre_tokenizer\.type: unsupported "Whitespace"/,
    ],
    [
      'split without regex',
      (j) => delete j.pre_tokenizer.pretokenizers[0].pattern.Regex,
      /pretokenizers\[0\]\.pattern\.Regex/,
    ],
    ['added token without id', (j) => delete j.added_tokens[0].id, /added_tokens\[0\]\.id/],
    [
      'unsupported normalizer',
      (j) => (j.normalizer = { type: 'Lowercase' }),
      /normalizer\.type: unsupported "Lowercase"/,
    ],
    ['unsupported decoder', (j) => (j.decoder = { type: 'WordPiece' }), /decoder\.type/],
    ['dropout', (j) => (j.model.dropout = 0.1), /model\.dropout/],
  ];
  test.each(cases)('%s', (_n, mutate, msg) => {
    const j = clone(trained);
    mutate(j);
    expect(() => Tokenizer.fromHFJson(j)).toThrow(msg);
    expect(() => Tokenizer.fromHFJson(JSON.stringify(j))).toThrow(msg);
  });
  test('not JSON at all', () => expect(() => Tokenizer.fromHFJson('{oops')).toThrow(/not valid JSON/));
  test('tiktoken rank file with a bad line names the line', () =>
    expect(() => Tokenizer.fromTiktoken('IQ== 0\nnot-base64!! 1')).toThrow(/line 2/));
});
