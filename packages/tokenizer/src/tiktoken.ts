// tiktoken rank files: one "base64(token bytes) rank" per line. A token's rank is its id and its
// merge priority; the pair table gets every split of a token into two tokens, which reproduces
// tiktoken's "merge the adjacent pair whose concatenation has the lowest rank" exactly.
import type { Merge } from './bpe';
import { bytesKey } from './byteLevel';
import type { PreTokenizerKind } from './pretokenize';
import { DEFAULT_SPECIAL_TOKENS } from './special';
import type { TokenizerSpec } from './spec';

export interface TiktokenOptions {
  /** split pattern; default 'cl100k' */
  preTokenizer?: PreTokenizerKind | { regex: string };
  /** special token text -> id (e.g. cl100k's <|endoftext|> = 100257) */
  specialTokens?: Record<string, number>;
  /** add the seed-diffusion special tokens that are missing, after the highest id (default true) */
  addMissingSpecials?: boolean;
}

export function parseTiktokenRanks(text: string, opts: TiktokenOptions = {}): TokenizerSpec {
  const lines = text.split('\n');
  // Ranks are token ids and must be dense (< the number of tokens): checked per line before any
  // rank indexes the table, so a stray rank of 1e9 is an error in linear time.
  let count = 0;
  for (const l of lines) if (l.trim() !== '') count++;
  const tokenBytes: (Uint8Array | undefined)[] = new Array(count);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const sp = line.indexOf(' ');
    const b64 = sp < 0 ? '' : line.slice(0, sp);
    const rank = sp < 0 ? NaN : Number(line.slice(sp + 1));
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || !Number.isInteger(rank) || rank < 0)
      throw new Error(`tiktoken ranks: line ${i + 1} is not "base64-token rank": ${JSON.stringify(line.slice(0, 80))}`);
    if (rank >= count)
      throw new Error(
        `tiktoken ranks: line ${i + 1}: rank ${rank} is outside the vocabulary of ${count} tokens (ranks must be 0..${count - 1})`,
      );
    if (tokenBytes[rank] !== undefined) throw new Error(`tiktoken ranks: line ${i + 1}: rank ${rank} appears twice`);
    tokenBytes[rank] = new Uint8Array(Buffer.from(b64, 'base64'));
  }
  if (tokenBytes.length === 0) throw new Error('tiktoken ranks: no tokens in the rank file');
  const byKey = new Map<string, number>();
  for (let id = 0; id < tokenBytes.length; id++) {
    const b = tokenBytes[id];
    if (b !== undefined) byKey.set(bytesKey(b), id);
  }
  const merges: Merge[] = [];
  for (let id = 0; id < tokenBytes.length; id++) {
    const b = tokenBytes[id];
    if (b === undefined || b.length < 2) continue;
    const key = bytesKey(b);
    for (let k = 1; k < b.length; k++) {
      const left = byKey.get(key.slice(0, k));
      if (left === undefined) continue;
      const right = byKey.get(key.slice(k));
      if (right === undefined) continue;
      merges.push({ left, right, merged: id, priority: id });
    }
  }
  const specialTokens = new Map<string, number>(Object.entries(opts.specialTokens ?? {}));
  let next = Math.max(tokenBytes.length, ...[...specialTokens.values()].map((v) => v + 1));
  if (opts.addMissingSpecials !== false)
    for (const s of DEFAULT_SPECIAL_TOKENS) if (!specialTokens.has(s)) specialTokens.set(s, next++);
  for (const [s, id] of specialTokens)
    if (tokenBytes[id] !== undefined)
      throw new Error(`tiktoken ranks: special token ${s} has id ${id}, which is an ordinary token`);
  return {
    tokenBytes,
    merges,
    ignoreMerges: true,
    preTokenizer: opts.preTokenizer ?? 'cl100k',
    specialTokens,
    normalizer: null,
  };
}
