// Runs the forwards decoders ask for: all of them in one batched forward when the model has
// forwardBatch, else one by one through its single-sequence calls.
import type { Tensor } from '@seed-diffusion/native';

import type { ForwardCall } from './decoder-step';
import type { DecodingBatchItem, DecodingModel } from './model-api';

export interface ForwardResults {
  /** Logits per call, in call order (null for a prefill). */
  logits: (Tensor | null)[];
  free(): void;
}

/** The batch item of a call. */
function batchItem(model: DecodingModel, call: ForwardCall): DecodingBatchItem {
  switch (call.kind) {
    case 'prefill':
      return {
        cache: call.cache,
        ids: call.ids,
        mask: { mask: 'block_causal', block: call.block, origin: 0 },
        rows: null,
        commit: call.ids.length,
      };
    case 'block':
      return {
        cache: call.cache,
        ids: call.ids,
        mask: call.block === undefined ? { mask: 'prefix' } : { mask: 'block_causal', block: call.block, origin: 0 },
        rows: call.rows,
        commit: call.commit ?? 0,
      };
    case 'verify':
      if (!model.verifyItem) throw new Error("mode 'verify' in a batch needs a model with verifyItem");
      return model.verifyItem(call.cache, call.clean, { masks: call.masks, draft: call.draft });
    case 'full':
      return { ids: call.ids, mask: call.topology, rows: call.rows };
  }
}

/** One call through the single-sequence API (models without forwardBatch). */
function runOne(model: DecodingModel, call: ForwardCall): Tensor | null {
  switch (call.kind) {
    case 'prefill':
      model.prefill(call.cache, call.ids, call.block);
      return null;
    case 'block':
      return model.forwardBlock(call.cache, call.ids, { commit: call.commit, block: call.block, rows: call.rows });
    case 'verify':
      if (!model.forwardVerify) throw new Error("mode 'verify' needs a model with forwardVerify");
      return model.forwardVerify(call.cache, call.clean, { masks: call.masks, draft: call.draft });
    case 'full':
      return model.forwardFull(call.ids, call.topology, { rows: call.rows });
  }
}

/** Runs `calls` (each from a different sequence) and returns their logits. */
export function runForwards(model: DecodingModel, calls: ForwardCall[]): ForwardResults {
  if (model.forwardBatch) {
    const out = model.forwardBatch(calls.map((c) => batchItem(model, c)));
    return { logits: out.parts, free: () => out.free() };
  }
  const logits: (Tensor | null)[] = [];
  const free = () => {
    for (const t of logits) if (t) t.backend.free(t);
  };
  try {
    for (const c of calls) logits.push(runOne(model, c));
  } catch (e) {
    free();
    throw e;
  }
  return { logits, free };
}
