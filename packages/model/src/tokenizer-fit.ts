// A model folder's tokenizer must fit its config: every id the tokenizer can produce must have an
// embedding row, and the special tokens the decoder relies on must be the ids the config names.
// Otherwise generation runs on a different vocabulary than the one trained: garbage without a word.
import type { ModelConfig } from './config';

/** What is checked of a tokenizer (the Tokenizer class of @seed-diffusion/tokenizer has it). */
export interface TokenizerLike {
  readonly vocabSize: number;
  readonly specialTokens: ReadonlyMap<string, number>;
}

const SPECIAL_FIELDS: [string, keyof ModelConfig, string][] = [
  ['<|mask|>', 'maskTokenId', 'mask_token_id'],
  ['<|endoftext|>', 'eosTokenId', 'eos_token_id'],
];

/** Throws naming the file and field when `tok` cannot be used with `config`. */
export function checkTokenizerFits(config: ModelConfig, tok: TokenizerLike, where: string): void {
  if (tok.vocabSize > config.vocabSize) {
    throw new Error(
      `${where}: tokenizer.json has ${tok.vocabSize} ids but config.json's vocab_size is ${config.vocabSize} ` +
        '(the tokenizer belongs to another model)',
    );
  }
  for (const [text, key, field] of SPECIAL_FIELDS) {
    const id = tok.specialTokens.get(text);
    if (id !== undefined && id !== config[key]) {
      throw new Error(`${where}: tokenizer.json has ${text} = ${id} but config.json's ${field} is ${config[key]}`);
    }
  }
}
