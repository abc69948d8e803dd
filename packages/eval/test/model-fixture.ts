// A real tiny model for the measure tests: a byte-level BPE tokenizer and a 2-layer block-diffusion
// transformer trained for a few seconds (the model package's Trainer, mask then edit stage) on a
// small, very regular Python corpus, so the measures have values away from 0 and 1.
import { Model, Trainer } from '@seed-diffusion/model';
import { SPECIAL_TOKENS, Tokenizer } from '@seed-diffusion/tokenizer';

import { type HeldOut, heldOutFromTexts } from '../src';

/** Document i of the corpus: a few small functions whose bodies follow the name's number. */
export function corpusDoc(i: number): string {
  const a = i % 7;
  const b = (i * 3) % 5;
  return (
    `def add_${a}(x):\n    return x + ${a}\n\n` +
    `def mul_${b}(y):\n    total = y * ${b}\n    return total\n\n` +
    `class Box${a}:\n    def __init__(self, v):\n        self.v = v\n`
  );
}

export interface Fixture {
  model: Model;
  tokenizer: Tokenizer;
  train: HeldOut;
  heldOut: HeldOut;
}

let cached: Fixture | null = null;

export function fixture(): Fixture {
  if (cached) return cached;
  const texts = Array.from({ length: 40 }, (_, i) => corpusDoc(i));
  const tokenizer = Tokenizer.train(texts, { vocabSize: 300, specialTokens: Object.values(SPECIAL_TOKENS) });
  const id = (t: string) => {
    const v = tokenizer.tokenToId(t);
    if (v === undefined) throw new Error(`fixture tokenizer lacks ${t}`);
    return v;
  };
  const eos = id(SPECIAL_TOKENS.eos);
  const model = Model.init(
    {
      vocabSize: tokenizer.vocabSize,
      hiddenSize: 48,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      intermediateSize: 96,
      maskTokenId: id(SPECIAL_TOKENS.mask),
      eosTokenId: eos,
      padTokenId: id(SPECIAL_TOKENS.pad),
      maxSeqLen: 128,
      trainedBlockSizes: [4, 8, 16],
    },
    7,
  );
  // Tiny forwards gain nothing from threads; on a loaded 2-core machine OpenMP spinning slows them down.
  model.backend.numThreads = 1;
  const train = heldOutFromTexts(texts.slice(0, 32), tokenizer, eos, 'fixture-train');
  const heldOut = heldOutFromTexts(texts.slice(32), tokenizer, eos, 'fixture-heldout');
  new Trainer(
    model,
    { train: train.stream },
    { steps: 160, batch: 8, seqLen: 32, lr: 1e-2, seed: 1, editStart: 0.6 },
  ).run();
  cached = { model, tokenizer, train, heldOut };
  return cached;
}
