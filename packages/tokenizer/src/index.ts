export { Tokenizer, type EncodeOptions, type DecodeOptions, type EncodingWithOffsets } from './tokenizer';
export { SPECIAL_TOKENS, DEFAULT_SPECIAL_TOKENS, type SpecialTokenName } from './special';
export type { TokenizerSpec } from './spec';
export type { TiktokenOptions } from './tiktoken';
export { type TrainOptions, type TrainPhase, type CorpusItem, PreTokenCounter, learnMerges } from './train';
export {
  preTokenize,
  scannerFor,
  CL100K_PATTERN,
  CL100K_PATTERN_HF,
  QWEN2_PATTERN_HF,
  GPT2_PATTERN,
  type PreTokenizerKind,
  type NextPreToken,
} from './pretokenize';
export { BYTE_TO_UNICODE, bytesToByteLevel, byteLevelToBytes } from './byteLevel';
export { encodeWtf8, decodeWtf8 } from './utf8';
