// dispose() frees what Model, KVCache, TrainGraph and Trainer hold: on WASM, where memory is not the
// GC's, the module's live allocation bytes return exactly to where they were.
import { WasmBackend, availableBackends } from '@seed-diffusion/native';

import { makeConfig } from '../src/config';
import { Model } from '../src/model';
import { Trainer } from '../src/trainer';

const wasm = availableBackends().find((b) => b.name === 'wasm') as WasmBackend | undefined;
const cfg = makeConfig({
  vocabSize: 32,
  hiddenSize: 16,
  numLayers: 2,
  numHeads: 2,
  numKvHeads: 1,
  intermediateSize: 32,
  maxSeqLen: 16,
  maskTokenId: 31,
  eosTokenId: 0,
  shiftLogits: true,
  trainedBlockSizes: [4],
});

(wasm ? test : test.skip)(
  `a model, its caches, its logits and a trainer give back every byte on WASM${wasm ? '' : ' [skipped: no WASM module built]'}`,
  () => {
    const b = wasm as WasmBackend;
    const before = b.liveBytes;
    const model = Model.init(cfg, 1, b);
    const cache = model.newCache();
    model.prefill(cache, Int32Array.from([1, 2, 3, 4]), 4);
    b.free(model.forwardBlock(cache, Int32Array.from([31, 31, 31, 31]), { commit: true }));
    b.free(model.forwardFull(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8])));
    const stream = Int32Array.from({ length: 256 }, (_, i) => (i * 5) % 31);
    const t = new Trainer(model, { train: stream }, { steps: 2, batch: 2, seqLen: 16 });
    t.trainStep();
    expect(b.liveBytes).toBeGreaterThan(before);
    t.dispose();
    cache.dispose();
    model.dispose();
    model.dispose(); // twice is harmless
    expect(b.liveBytes).toBe(before);
    // A disposed model's tensors are refused, not read after free.
    expect(() => model.forwardFull(Int32Array.from([1, 2]))).toThrow(/not inside a live allocation/);
  },
);
