/** The special tokens every seed-diffusion tokenizer carries (added after the ordinary vocabulary when missing). */
export const SPECIAL_TOKENS = {
  eos: '<|endoftext|>',
  mask: '<|mask|>',
  pad: '<|pad|>',
  fimPrefix: '<|fim_prefix|>',
  fimMiddle: '<|fim_middle|>',
  fimSuffix: '<|fim_suffix|>',
} as const;

export type SpecialTokenName = keyof typeof SPECIAL_TOKENS;

export const DEFAULT_SPECIAL_TOKENS: string[] = Object.values(SPECIAL_TOKENS);
