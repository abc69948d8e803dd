// One completion on the engine: submit the prompt's ids, turn each finished block into text
// deltas (holding back what a stop string or a later block may still change), stop at a stop
// string by cancelling the request, and report why it finished. Leaving the generator early, or
// aborting its signal, cancels the request in the engine (its KV pages go back at once).
import type { Engine, EngineEvent, EngineRequestOptions } from '@seed-diffusion/engine';
import { findStop, type DecodeStats } from '@seed-diffusion/sampler';
import type { Tokenizer } from '@seed-diffusion/tokenizer';

export type FinishReason = 'stop' | 'length';

export interface GenerationSpec {
  prompt: number[];
  stop: string[];
  sampler: EngineRequestOptions & { maxNewTokens: number };
}

export interface GenerationOutcome {
  text: string;
  finishReason: FinishReason;
  /** Tokens the model generated (up to the block that held a stop string). */
  completionTokens: number;
  /** The decode's stats; null when a stop string ended it (the engine reports none for a cancelled request). */
  stats: DecodeStats | null;
  /** Engine forwards this request took part in (from its events). */
  forwards: number;
}

export interface GenerationHooks {
  /** Every engine event (the step stream forwards them). */
  onEvent?: (e: EngineEvent) => void;
  /** A block became final: ms since submit, and the block's generated tokens. */
  onBlock?: (msSinceSubmit: number, tokens: number, first: boolean) => void;
}

/** Why a generation was aborted: the client left, the per-request timeout fired, or the server is shutting down. */
export class GenerationAborted extends Error {
  constructor(readonly reason: 'disconnect' | 'timeout' | 'shutdown') {
    super(`generation aborted: ${reason}`);
    this.name = 'GenerationAborted';
  }
}

export async function* generate(
  engine: Engine,
  tokenizer: Pick<Tokenizer, 'decode'>,
  spec: GenerationSpec,
  signal: AbortSignal,
  hooks: GenerationHooks = {},
): AsyncGenerator<string, GenerationOutcome, void> {
  if (signal.aborted) throw signal.reason;
  const t0 = performance.now();
  const stream = engine.submit({ prompt: spec.prompt, ...spec.sampler });
  const onAbort = () => stream.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  const { stop } = spec;
  const hold = stop.reduce((m, s) => Math.max(m, s.length - 1), 0);
  const generated: number[] = [];
  let text = '';
  let emitted = 0;
  let cut = -1;
  let stats: DecodeStats | null = null;
  let forwards = 0;
  let blocks = 0;
  try {
    for await (const e of stream) {
      hooks.onEvent?.(e);
      if (e.type === 'step' || e.type === 'block_end') forwards = e.forwards;
      if (e.type === 'done') stats = e.stats;
      if (e.type !== 'block_end' || cut >= 0) continue;
      hooks.onBlock?.(performance.now() - t0, e.tokens.length, blocks++ === 0);
      for (const t of e.tokens) generated.push(t);
      text = tokenizer.decode(generated);
      if (stop.length > 0) {
        cut = findStop(text, stop, Math.max(0, emitted - hold));
        if (cut >= 0) stream.cancel();
      }
      let upto = cut >= 0 ? cut : text.length - hold;
      // Trailing U+FFFD: bytes of a character the next block completes.
      while (cut < 0 && upto > emitted && text.charCodeAt(upto - 1) === 0xfffd) upto--;
      if (upto > emitted) {
        yield text.slice(emitted, upto);
        emitted = upto;
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (signal.aborted && cut < 0) throw signal.reason;
  const full = cut >= 0 ? text.slice(0, cut) : tokenizer.decode(generated);
  if (full.length > emitted) yield full.slice(emitted);
  const finishReason: FinishReason =
    cut >= 0 || stats === null || stats.stopReason === 'eos' || stats.stopReason === 'stop' ? 'stop' : 'length';
  return { text: full, finishReason, completionTokens: generated.length, stats, forwards };
}
