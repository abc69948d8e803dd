import type { Merge } from './bpe';
import type { PreTokenizerKind } from './pretokenize';

/** Everything a Tokenizer is built from; produced by training, tokenizer.json and tiktoken loaders. */
export interface TokenizerSpec {
  /** bytes of each ordinary token, indexed by id (undefined for special or unused ids) */
  tokenBytes: (Uint8Array | undefined)[];
  merges: Merge[];
  /** emit a pre-token whole when it is itself a token (tiktoken; Hugging Face `ignore_merges`) */
  ignoreMerges: boolean;
  /** a built-in scanner, or an arbitrary split regex (Oniguruma syntax, run through RegExp) */
  preTokenizer: PreTokenizerKind | { regex: string };
  /** special token text -> id */
  specialTokens: Map<string, number>;
  /** Unicode normalisation applied before encoding (Hugging Face `normalizer: NFC`) */
  normalizer: 'NFC' | null;
}
