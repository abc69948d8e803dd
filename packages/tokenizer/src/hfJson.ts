// Hugging Face tokenizer.json: byte-level BPE models, with either the ByteLevel pre-tokenizer (GPT-2
// split) or Sequence[Split(regex), ByteLevel] (cl100k / Qwen2 / Llama-3 style). Anything this
// tokenizer would not reproduce exactly is an error naming the field, never silently skipped.
import type { Merge } from './bpe';
import { bytesToByteLevel, byteLevelToBytes } from './byteLevel';
import {
  CL100K_PATTERN,
  CL100K_PATTERN_HF,
  GPT2_PATTERN,
  type PreTokenizerKind,
  QWEN2_PATTERN_HF,
  regexScanner,
} from './pretokenize';
import type { TokenizerSpec } from './spec';

type Json = Record<string, unknown>;

const JS_TIKTOKEN_CL100K =
  "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Split patterns the hand-written scanners implement exactly. */
const KNOWN_PATTERNS = new Map<string, PreTokenizerKind>([
  [CL100K_PATTERN, 'cl100k'],
  [CL100K_PATTERN_HF, 'cl100k'],
  [JS_TIKTOKEN_CL100K, 'cl100k'],
  [QWEN2_PATTERN_HF, 'qwen2'],
  [GPT2_PATTERN, 'gpt2'],
]);

function fail(field: string, msg: string): never {
  throw new Error(`tokenizer.json: ${field}: ${msg}`);
}

function obj(v: unknown, field: string): Json {
  if (v === undefined) fail(field, 'missing field');
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(field, 'expected an object');
  return v as Json;
}

function isNullish(v: unknown): boolean {
  return v === null || v === undefined;
}

function parsePreTokenizer(pt: unknown): PreTokenizerKind | { regex: string } {
  const p = obj(pt, 'pre_tokenizer');
  const byteLevel = (b: Json, field: string, splitsItself: boolean) => {
    if (b.add_prefix_space === true)
      fail(`${field}.add_prefix_space`, 'true is not supported (byte-level round trip needs false)');
    const useRegex = b.use_regex === undefined ? true : b.use_regex;
    if (useRegex !== splitsItself)
      fail(
        `${field}.use_regex`,
        splitsItself ? 'must be true when ByteLevel is the only pre-tokenizer' : 'must be false after a Split',
      );
  };
  if (p.type === 'ByteLevel') {
    byteLevel(p, 'pre_tokenizer', true);
    return 'gpt2';
  }
  if (p.type === 'Sequence') {
    const list = p.pretokenizers;
    if (!Array.isArray(list)) fail('pre_tokenizer.pretokenizers', 'missing field or not an array');
    if (list.length !== 2)
      fail('pre_tokenizer.pretokenizers', `expected [Split, ByteLevel], got ${list.length} entries`);
    const split = obj(list[0], 'pre_tokenizer.pretokenizers[0]');
    if (split.type !== 'Split')
      fail('pre_tokenizer.pretokenizers[0].type', `expected "Split", got ${JSON.stringify(split.type)}`);
    const pat = obj(split.pattern, 'pre_tokenizer.pretokenizers[0].pattern');
    if (typeof pat.Regex !== 'string')
      fail('pre_tokenizer.pretokenizers[0].pattern.Regex', 'missing field or not a string');
    if (split.behavior !== 'Isolated')
      fail(
        'pre_tokenizer.pretokenizers[0].behavior',
        `only "Isolated" is supported, got ${JSON.stringify(split.behavior)}`,
      );
    if (split.invert === true) fail('pre_tokenizer.pretokenizers[0].invert', 'true is not supported');
    const bl = obj(list[1], 'pre_tokenizer.pretokenizers[1]');
    if (bl.type !== 'ByteLevel')
      fail('pre_tokenizer.pretokenizers[1].type', `expected "ByteLevel", got ${JSON.stringify(bl.type)}`);
    byteLevel(bl, 'pre_tokenizer.pretokenizers[1]', false);
    const known = KNOWN_PATTERNS.get(pat.Regex);
    if (known !== undefined) return known;
    try {
      regexScanner(pat.Regex);
    } catch (e) {
      fail(
        'pre_tokenizer.pretokenizers[0].pattern.Regex',
        `cannot be run as a JavaScript RegExp: ${(e as Error).message}`,
      );
    }
    return { regex: pat.Regex };
  }
  fail(
    'pre_tokenizer.type',
    `unsupported ${JSON.stringify(p.type)} (expected "ByteLevel" or "Sequence" of Split + ByteLevel)`,
  );
}

export function parseHFJson(json: string | object): TokenizerSpec {
  let root: Json;
  if (typeof json === 'string') {
    try {
      root = JSON.parse(json) as Json;
    } catch (e) {
      throw new Error(`tokenizer.json: not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  } else root = json as Json;
  root = obj(root, '(root)');
  const model = obj(root.model, 'model');
  if (model.type === undefined) fail('model.type', 'missing field');
  if (model.type !== 'BPE') fail('model.type', `unsupported model type ${JSON.stringify(model.type)} (only "BPE")`);
  if (!isNullish(model.dropout) && model.dropout !== 0) fail('model.dropout', 'BPE dropout is not supported');
  if (!isNullish(model.continuing_subword_prefix) && model.continuing_subword_prefix !== '')
    fail('model.continuing_subword_prefix', 'not supported by byte-level BPE');
  if (!isNullish(model.end_of_word_suffix) && model.end_of_word_suffix !== '')
    fail('model.end_of_word_suffix', 'not supported by byte-level BPE');
  if (model.byte_fallback === true) fail('model.byte_fallback', 'not supported (byte-level BPE needs no fallback)');
  const vocab = obj(model.vocab, 'model.vocab');
  if (!Array.isArray(model.merges))
    fail('model.merges', model.merges === undefined ? 'missing field' : 'expected an array');

  // added tokens first: their ids are excluded from the ordinary vocabulary
  const specialTokens = new Map<string, number>();
  if (!isNullish(root.added_tokens)) {
    if (!Array.isArray(root.added_tokens)) fail('added_tokens', 'expected an array');
    root.added_tokens.forEach((t: unknown, i: number) => {
      const a = obj(t, `added_tokens[${i}]`);
      if (!Number.isInteger(a.id) || (a.id as number) < 0)
        fail(`added_tokens[${i}].id`, 'missing or not a non-negative integer');
      if (typeof a.content !== 'string' || a.content === '')
        fail(`added_tokens[${i}].content`, 'missing or not a non-empty string');
      specialTokens.set(a.content, a.id as number);
    });
  }
  const specialIds = new Set(specialTokens.values());
  if (specialIds.size !== specialTokens.size) fail('added_tokens', 'two added tokens share an id');

  // Ids must be dense: with N distinct ids (vocab entries plus added tokens) every id is < N. Checked
  // before any id indexes an array, so a stray id of 1e9 is an error in linear time, not a
  // billion-slot table.
  const vocabEntries = Object.entries(vocab);
  let distinct = specialTokens.size;
  for (const [tok, id] of vocabEntries) if (!(specialTokens.get(tok) === id)) distinct++;
  const tokenBytes: (Uint8Array | undefined)[] = [];
  const idOf = new Map<string, number>();
  for (const [tok, id] of vocabEntries) {
    if (!Number.isInteger(id) || (id as number) < 0)
      fail(`model.vocab[${JSON.stringify(tok)}]`, 'id is not a non-negative integer');
    const n = id as number;
    if (specialIds.has(n) && specialTokens.get(tok) === n) continue; // the added token's own vocab entry
    const b = byteLevelToBytes(tok);
    if (b === undefined || b.length === 0)
      fail(`model.vocab[${JSON.stringify(tok)}]`, 'not a byte-level token (only ByteLevel BPE is supported)');
    if (n >= distinct)
      fail(
        `model.vocab[${JSON.stringify(tok)}]`,
        `id ${n} is outside the vocabulary of ${distinct} tokens (ids must be 0..${distinct - 1})`,
      );
    if (tokenBytes[n] !== undefined) fail(`model.vocab[${JSON.stringify(tok)}]`, `id ${n} is used twice`);
    if (specialIds.has(n)) fail(`model.vocab[${JSON.stringify(tok)}]`, `id ${n} is also an added token`);
    tokenBytes[n] = b;
    idOf.set(tok, n);
  }
  for (let byte = 0; byte < 256; byte++)
    if (!idOf.has(bytesToByteLevel(new Uint8Array([byte]))))
      fail(
        'model.vocab',
        `no token for byte 0x${byte.toString(16).padStart(2, '0')} (every byte needs one for the byte-level fallback)`,
      );
  for (const [content, id] of specialTokens)
    if (id >= distinct)
      fail(
        `added_tokens[${JSON.stringify(content)}].id`,
        `${id} is outside the vocabulary of ${distinct} tokens (ids must be 0..${distinct - 1})`,
      );

  // priority: the index of the first merge that yields the merged token. For ordinary BPE files
  // (one merge per token) that is the merge index; for files converted from tiktoken (every split
  // of a token listed, sorted by rank) it gives tiktoken's leftmost-first rule exactly.
  const merges: Merge[] = [];
  const firstIndex = new Map<number, number>();
  (model.merges as unknown[]).forEach((m, i) => {
    let a: unknown;
    let b: unknown;
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length !== 2) fail(`model.merges[${i}]`, `expected "left right", got ${JSON.stringify(m)}`);
      [a, b] = parts;
    } else if (Array.isArray(m) && m.length === 2) [a, b] = m;
    else fail(`model.merges[${i}]`, `expected "left right" or [left, right], got ${JSON.stringify(m)}`);
    const left = idOf.get(a as string);
    if (left === undefined) fail(`model.merges[${i}]`, `refers to unknown token ${JSON.stringify(a)}`);
    const right = idOf.get(b as string);
    if (right === undefined) fail(`model.merges[${i}]`, `refers to unknown token ${JSON.stringify(b)}`);
    const merged = idOf.get((a as string) + (b as string));
    if (merged === undefined)
      fail(`model.merges[${i}]`, `merged token ${JSON.stringify((a as string) + (b as string))} is not in model.vocab`);
    let priority = firstIndex.get(merged);
    if (priority === undefined) firstIndex.set(merged, (priority = i));
    merges.push({ left, right, merged, priority });
  });

  const preTokenizer = parsePreTokenizer(root.pre_tokenizer);
  let normalizer: 'NFC' | null = null;
  if (!isNullish(root.normalizer)) {
    const n = obj(root.normalizer, 'normalizer');
    if (n.type !== 'NFC') fail('normalizer.type', `unsupported ${JSON.stringify(n.type)} (only null or "NFC")`);
    normalizer = 'NFC';
  }
  if (!isNullish(root.decoder) && obj(root.decoder, 'decoder').type !== 'ByteLevel')
    fail('decoder.type', `unsupported ${JSON.stringify((root.decoder as Json).type)} (only "ByteLevel")`);
  if (!isNullish(root.post_processor) && obj(root.post_processor, 'post_processor').type !== 'ByteLevel')
    fail(
      'post_processor.type',
      `unsupported ${JSON.stringify((root.post_processor as Json).type)} (only null or "ByteLevel")`,
    );
  const ignoreMerges = model.ignore_merges === true;
  return { tokenBytes, merges, ignoreMerges, preTokenizer, specialTokens, normalizer };
}

function preTokenizerJson(p: TokenizerSpec['preTokenizer']): object {
  if (p === 'gpt2') return { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const regex = p === 'cl100k' ? CL100K_PATTERN_HF : p === 'qwen2' ? QWEN2_PATTERN_HF : p.regex;
  return {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
}

export function toHFJsonObject(spec: TokenizerSpec, merges: Merge[]): object {
  const vocab: Record<string, number> = {};
  const strOf: string[] = [];
  spec.tokenBytes.forEach((b, id) => {
    if (b === undefined) return;
    const s = bytesToByteLevel(b);
    vocab[s] = id;
    strOf[id] = s;
  });
  const added = [...spec.specialTokens].sort((x, y) => x[1] - y[1]);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added.map(([content, id]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: spec.normalizer === 'NFC' ? { type: 'NFC' } : null,
    pre_tokenizer: preTokenizerJson(spec.preTokenizer),
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: spec.ignoreMerges,
      vocab,
      merges: merges.map((m) => `${strOf[m.left]} ${strOf[m.right]}`),
    },
  };
}
