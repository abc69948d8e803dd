// The Tokenizer: pre-tokenize with a hand-written scanner, look each pre-token up in a cache of
// ids (pre-tokens of code repeat a lot), run BPE only on a miss. Special tokens are matched only
// when the caller allows them, so their literal text in ordinary input is ordinary text.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

import { BpeModel } from './bpe';
import { bytesToByteLevel, byteLevelToBytes } from './byteLevel';
import { parseHFJson, toHFJsonObject } from './hfJson';
import { type NextPreToken, type PreTokenizerKind, regexScanner, scannerFor } from './pretokenize';
import { SPECIAL_TOKENS, type SpecialTokenName } from './special';
import type { TokenizerSpec } from './spec';
import { parseTiktokenRanks, type TiktokenOptions } from './tiktoken';
import { type TrainOptions, trainSpec, trainSpecAsync, type CorpusItem } from './train';
import { PieceCache } from './pieceCache';
import { decodeWtf8, validUtf8SeqLen, writeWtf8 } from './utf8';

export interface EncodeOptions {
  /** special tokens whose literal text is turned into the special id ('all' or a list); default none */
  allowedSpecial?: 'all' | Iterable<string>;
}

export interface DecodeOptions {
  /** leave special tokens out of the text */
  skipSpecial?: boolean;
}

export interface EncodingWithOffsets {
  ids: number[];
  /** [start, end) in UTF-16 code units of the input for each token; a token that holds part of a character spans the whole character */
  offsets: [number, number][];
}

/** Longer pre-tokens are not cached (they rarely repeat and would pin memory). */
const CACHE_MAX_LEN = 256;

export class Tokenizer {
  private readonly model: BpeModel;
  private readonly spec: TokenizerSpec;
  private readonly next: NextPreToken;
  private readonly specialIds: Map<string, number>;
  private readonly specialById = new Map<number, string>();
  private readonly specialBytes = new Map<number, Uint8Array>();
  private readonly ascii = new Int32Array(128);
  private cache = new PieceCache();
  private scratch = new Uint8Array(1024);
  /** number of ids (highest id + 1), special tokens included */
  readonly vocabSize: number;

  constructor(spec: TokenizerSpec) {
    this.spec = spec;
    const specialSet = new Set(spec.specialTokens.values());
    // a special id is never produced from ordinary text, even when its text is also in the vocab
    const ordinary = spec.tokenBytes.map((b, id) => (specialSet.has(id) ? undefined : b));
    this.model = new BpeModel(ordinary, spec.merges, spec.ignoreMerges);
    this.next =
      typeof spec.preTokenizer === 'string' ? scannerFor(spec.preTokenizer) : regexScanner(spec.preTokenizer.regex);
    this.specialIds = spec.specialTokens;
    const enc = new TextEncoder();
    let max = spec.tokenBytes.length - 1;
    for (const [text, id] of spec.specialTokens) {
      this.specialById.set(id, text);
      this.specialBytes.set(id, enc.encode(text));
      if (id > max) max = id;
    }
    this.vocabSize = max + 1;
    for (let c = 0; c < 128; c++) this.ascii[c] = this.model.byteToId[c];
  }

  // ---------------------------------------------------------------- construction

  static fromSpec(spec: TokenizerSpec): Tokenizer {
    return new Tokenizer(spec);
  }

  /** Train a byte-level BPE on texts (deterministic: same texts in the same order and options give the same merges). */
  static train(texts: Iterable<string>, opts: TrainOptions): Tokenizer {
    return new Tokenizer(trainSpec(texts, opts));
  }

  /** Train from strings or, with `files: true`, file paths; sync or async iterables. */
  static async trainAsync(
    corpus: Iterable<CorpusItem> | AsyncIterable<CorpusItem>,
    opts: TrainOptions & { files?: boolean },
  ): Promise<Tokenizer> {
    return new Tokenizer(await trainSpecAsync(corpus, opts));
  }

  /** Load a Hugging Face tokenizer.json (a string or the parsed object). */
  static fromHFJson(json: string | object): Tokenizer {
    return new Tokenizer(parseHFJson(json));
  }

  /** Load a tokenizer.json file. */
  static load(path: string): Tokenizer {
    return Tokenizer.fromHFJson(readFileSync(path, 'utf8'));
  }

  /** Load a tiktoken rank file ("base64-token rank" per line). */
  static fromTiktoken(ranksText: string, opts: TiktokenOptions = {}): Tokenizer {
    return new Tokenizer(parseTiktokenRanks(ranksText, opts));
  }

  // ---------------------------------------------------------------- saving

  toHFJson(): object {
    return toHFJsonObject(this.spec, this.model.merges());
  }

  /** Write tokenizer.json atomically (temp file, then rename). */
  save(path: string): void {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.toHFJson()));
    renameSync(tmp, path);
  }

  // ---------------------------------------------------------------- vocabulary

  /** Id of a token given in Hugging Face byte-level form (e.g. "Ġthe") or a special token's text. */
  tokenToId(tok: string): number | undefined {
    const s = this.specialIds.get(tok);
    if (s !== undefined) return s;
    const b = byteLevelToBytes(tok);
    if (b === undefined) return undefined;
    let key = '';
    for (let i = 0; i < b.length; i++) key += String.fromCharCode(b[i]);
    return this.model.bytesToId.get(key);
  }

  /** Token of an id in Hugging Face byte-level form, or the special token's text. */
  idToToken(id: number): string | undefined {
    const s = this.specialById.get(id);
    if (s !== undefined) return s;
    const b = this.model.tokenBytes[id];
    return b === undefined ? undefined : bytesToByteLevel(b);
  }

  /** Bytes of a token (special tokens: their UTF-8 text). */
  tokenBytes(id: number): Uint8Array | undefined {
    return this.specialBytes.get(id) ?? this.model.tokenBytes[id];
  }

  /** Id of a named seed-diffusion special token (eos, mask, pad, fimPrefix, ...), if this vocabulary has it. */
  specialTokenId(name: SpecialTokenName): number | undefined {
    return this.specialIds.get(SPECIAL_TOKENS[name]);
  }

  /** Special token text -> id. */
  get specialTokens(): ReadonlyMap<string, number> {
    return this.specialIds;
  }

  get preTokenizer(): PreTokenizerKind | { regex: string } {
    return this.spec.preTokenizer;
  }

  // ---------------------------------------------------------------- encoding

  encode(text: string, opts?: EncodeOptions): number[] {
    const out: number[] = [];
    this.encodeText(this.normalize(text), out, this.allowedList(opts), null, -1);
    return out;
  }

  encodeBatch(texts: readonly string[], opts?: EncodeOptions): number[][] {
    return texts.map((t) => this.encode(t, opts));
  }

  /** Ids with the character span of each token (for a playground). */
  encodeWithOffsets(text: string, opts?: EncodeOptions): EncodingWithOffsets {
    const ids: number[] = [];
    const flat: number[] = [];
    const t = this.normalize(text);
    this.encodeText(t, ids, this.allowedList(opts), flat, -1);
    const offsets: [number, number][] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) offsets[i] = [flat[2 * i], flat[2 * i + 1]];
    return { ids, offsets };
  }

  /**
   * Encode text arriving in chunks (a file read in pieces, a network stream) without holding it all:
   * text is cut only after a newline followed by a non-space, where no pre-token can straddle the cut,
   * so the concatenated output equals encode(whole text).
   */
  async *encodeStream(
    chunks: Iterable<string> | AsyncIterable<string>,
    opts?: EncodeOptions,
  ): AsyncGenerator<number[]> {
    const allowed = this.allowedList(opts);
    let buf = '';
    for await (const chunk of chunks) {
      buf += chunk;
      const cut = safeCut(buf);
      if (cut > 0) {
        const out: number[] = [];
        this.encodeText(buf, out, allowed, null, cut);
        buf = buf.slice(cut);
        yield out;
      }
    }
    if (buf.length > 0) {
      const out: number[] = [];
      this.encodeText(buf, out, allowed, null, -1);
      yield out;
    }
  }

  /** Encode arbitrary bytes (not necessarily UTF-8); decodeBytes gives them back exactly. */
  encodeBytes(bytes: Uint8Array): number[] {
    const out: number[] = [];
    const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    let i = 0;
    while (i < bytes.length) {
      // a run of valid UTF-8 is text; a run of invalid bytes is one BPE piece of raw bytes
      let j = i;
      for (let n; j < bytes.length && (n = validUtf8SeqLen(bytes, j, bytes.length)) > 0; j += n);
      if (j > i) {
        this.encodeText(dec.decode(bytes.subarray(i, j)), out, null, null, -1);
        i = j;
        continue;
      }
      while (j < bytes.length && validUtf8SeqLen(bytes, j, bytes.length) === 0) j++;
      for (const id of this.model.encodeBytes(bytes.slice(i, j), j - i)) out.push(id);
      i = j;
    }
    return out;
  }

  // ---------------------------------------------------------------- decoding

  decode(ids: ArrayLike<number>, opts?: DecodeOptions): string {
    return decodeWtf8(this.decodeBytes(ids, opts));
  }

  decodeBytes(ids: ArrayLike<number>, opts?: DecodeOptions): Uint8Array {
    const tb = this.model.tokenBytes;
    const skip = opts?.skipSpecial === true;
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const b = tb[id] ?? this.specialBytes.get(id);
      if (b === undefined)
        throw new RangeError(`decode: id ${id} at position ${i} is not in the vocabulary (size ${this.vocabSize})`);
      if (!(skip && this.specialBytes.has(id))) n += b.length;
    }
    const out = new Uint8Array(n);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (skip && this.specialBytes.has(id)) continue;
      const b = (tb[id] ?? this.specialBytes.get(id)) as Uint8Array;
      for (let k = 0; k < b.length; k++) out[o++] = b[k];
    }
    return out;
  }

  // ---------------------------------------------------------------- internals

  private normalize(text: string): string {
    return this.spec.normalizer === 'NFC' ? text.normalize('NFC') : text;
  }

  private allowedList(opts?: EncodeOptions): string[] | null {
    const a = opts?.allowedSpecial;
    if (a === undefined) return null;
    const list = a === 'all' ? [...this.specialIds.keys()] : [...a];
    for (const s of list)
      if (!this.specialIds.has(s)) throw new Error(`allowedSpecial: "${s}" is not a special token of this tokenizer`);
    return list.length > 0 ? list : null;
  }

  /**
   * Encode text[0, stopAt) (stopAt < 0: all of it) into out, matching allowed special tokens;
   * spans, when given, receives [start, end) per token. stopAt must be a pre-token boundary.
   */
  private encodeText(
    text: string,
    out: number[],
    allowed: string[] | null,
    spans: number[] | null,
    stopAt: number,
  ): void {
    const stop = stopAt < 0 ? text.length : stopAt;
    if (allowed === null) {
      this.encodeOrdinary(text, 0, stop, text.length, out, spans);
      return;
    }
    const nextAt = allowed.map((s) => text.indexOf(s));
    let start = 0;
    while (start < stop) {
      // earliest allowed special at or after start; the longest one wins a tie
      let at = -1;
      let k = -1;
      for (let i = 0; i < allowed.length; i++) {
        if (nextAt[i] >= 0 && nextAt[i] < start) nextAt[i] = text.indexOf(allowed[i], start);
        const p = nextAt[i];
        if (p >= 0 && (at < 0 || p < at || (p === at && allowed[i].length > allowed[k].length))) {
          at = p;
          k = i;
        }
      }
      const segEnd = at >= 0 ? at : text.length;
      this.encodeOrdinary(text, start, Math.min(segEnd, stop), segEnd, out, spans);
      if (at < 0 || at >= stop) return;
      out.push(this.specialIds.get(allowed[k]) as number);
      if (spans !== null) spans.push(at, at + allowed[k].length);
      start = at + allowed[k].length;
    }
  }

  /** Pre-tokenize text[pos, stop) (lookahead up to end) and append the ids of every pre-token. */
  private encodeOrdinary(
    text: string,
    pos: number,
    stop: number,
    end: number,
    out: number[],
    spans: number[] | null,
  ): void {
    const next = this.next;
    const cache = this.cache;
    const ascii = this.ascii;
    while (pos < stop) {
      const e = next(text, pos, end);
      if (e - pos === 1) {
        const c = text.charCodeAt(pos);
        if (c < 128) {
          out.push(ascii[c]);
          if (spans !== null) spans.push(pos, e);
          pos = e;
          continue;
        }
      }
      if (e - pos > CACHE_MAX_LEN) {
        const v = this.bpe(text, pos, e);
        for (let i = 0; i < v.length; i++) out.push(v[i]);
        if (spans !== null) this.pieceSpans(text, pos, e, v, spans);
        pos = e;
        continue;
      }
      const h = PieceCache.hash(text, pos, e);
      if (!cache.find(text, pos, e, h)) cache.insert(text, pos, e, h, this.bpe(text, pos, e));
      const ids = cache.ids;
      const o = cache.hitOff;
      const n = cache.hitLen;
      if (n === 1) {
        out.push(ids[o]);
        if (spans !== null) spans.push(pos, e);
      } else {
        for (let i = 0; i < n; i++) out.push(ids[o + i]);
        if (spans !== null) this.pieceSpans(text, pos, e, Array.from(ids.subarray(o, o + n)), spans);
      }
      pos = e;
    }
  }

  /** BPE of one pre-token text[start, end). */
  private bpe(text: string, start: number, end: number): number[] {
    const len = end - start;
    if (this.scratch.length < len * 3) this.scratch = new Uint8Array(len * 3 * 2);
    const n = writeWtf8(text, start, end, this.scratch, 0);
    return this.model.encodeBytes(this.scratch, n);
  }

  /** Character spans of the tokens of one pre-token text[pos, e). */
  private pieceSpans(text: string, pos: number, e: number, ids: number[], spans: number[]): void {
    // byte offset where each code unit starts, walking the piece once
    const starts: number[] = [];
    let b = 0;
    for (let i = pos; i < e; i++) {
      const c = text.charCodeAt(i);
      starts.push(b);
      if (c < 0x80) b += 1;
      else if (c < 0x800) b += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < e && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        starts.push(b);
        b += 4;
        i++;
      } else b += 3;
    }
    starts.push(b);
    let tb = 0;
    let ci = 0; // code unit index (relative) of the char holding byte tb
    for (const id of ids) {
      const len = (this.model.tokenBytes[id] as Uint8Array).length;
      while (ci + 1 < starts.length - 1 && starts[ci + 1] <= tb) ci++;
      const first = pairStart(starts, ci);
      const last = tb + len - 1;
      let cj = ci;
      while (cj + 1 < starts.length - 1 && starts[cj + 1] <= last) cj++;
      let endUnit = cj + 1;
      while (endUnit < starts.length - 1 && starts[endUnit] === starts[cj]) endUnit++;
      spans.push(pos + first, pos + endUnit);
      tb += len;
    }
  }
}

/** First code unit of the character at unit index i (a low surrogate shares its start with the high one). */
function pairStart(starts: number[], i: number): number {
  return i > 0 && starts[i - 1] === starts[i] ? i - 1 : i;
}

/** Last index p (0 < p < buf.length) with buf[p-1] === '\n' and buf[p] not whitespace; 0 when none. */
function safeCut(buf: string): number {
  for (let p = buf.lastIndexOf('\n', buf.length - 2) + 1; p > 0; p = buf.lastIndexOf('\n', p - 2) + 1) {
    const c = buf.charCodeAt(p);
    if (!(c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12 || (c > 127 && /\s/.test(buf[p]))))
      return p;
    if (p < 2) return 0;
  }
  return 0;
}
