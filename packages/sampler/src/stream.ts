// Text in, text out: encodes the prompt, decodes block by block, and yields the committed text as
// deltas when each block becomes final. Stop strings are matched on the decoded text.
import type { DecodeRequest } from './block-decoder';
import { decodeSteps } from './decode';
import type { DecodeEvent, DecodeResult, DecodeStats } from './events';
import type { DecodingModel } from './model-api';

/** The tokenizer calls used here (satisfied by @seed-diffusion/tokenizer's Tokenizer). */
export interface TextCodec {
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

export interface TextRequest extends Omit<DecodeRequest, 'shouldStop'> {
  /** Generation ends at the first occurrence of any of these in the generated text (excluded). */
  stop?: string[];
  onEvent?: (e: DecodeEvent) => void;
}

export interface TextResult {
  text: string;
  /** Generated tokens (may run past a stop string, which cuts only the text). */
  tokens: Int32Array;
  stats: DecodeStats;
}

/** Index of the earliest match of any stop string in `text` at or after `from`, else −1. */
export function findStop(text: string, stops: string[], from = 0): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s, from);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/**
 * Async generator of text deltas; its return value holds the full text, the tokens and the stats.
 * Text that may still change (an unfinished UTF-8 sequence, or a possible start of a stop string)
 * is held back until the next block or the end.
 */
export async function* streamText(
  model: DecodingModel,
  tokenizer: TextCodec,
  prompt: string,
  request: TextRequest = {},
): AsyncGenerator<string, TextResult, void> {
  const { stop = [], onEvent, ...rest } = request;
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new Error('stop: must be a list of non-empty strings');
  }
  if (prompt.length === 0) throw new Error('prompt is empty: give some text to continue from');
  const ids = tokenizer.encode(prompt);
  const hold = stop.reduce((m, s) => Math.max(m, s.length - 1), 0);
  const generated: number[] = [];
  let text = '';
  let cut = -1; // index of a matched stop string in `text`
  // Checked by the engine right after each block_end, which this loop has already handled.
  const shouldStop = stop.length === 0 ? undefined : () => cut >= 0;
  const it = decodeSteps(model, ids, { ...rest, shouldStop });
  let emitted = 0;
  let result: DecodeResult;
  for (;;) {
    const r = it.next();
    if (r.done) {
      result = r.value;
      break;
    }
    const e = r.value;
    onEvent?.(e);
    if (e.type !== 'block_end') continue;
    for (const t of e.tokens) generated.push(t);
    text = tokenizer.decode(generated);
    if (stop.length > 0) cut = findStop(text, stop, Math.max(0, emitted - hold));
    // Emit only the stable part: before a stop match, else all but a possible stop-string prefix
    // and trailing replacement characters (bytes of a character a later block completes).
    let upto = cut >= 0 ? cut : text.length - hold;
    while (cut < 0 && upto > emitted && text.charCodeAt(upto - 1) === 0xfffd) upto--;
    if (upto > emitted) {
      yield text.slice(emitted, upto);
      emitted = upto;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const full = cut >= 0 ? text.slice(0, cut) : tokenizer.decode(result.tokens);
  if (full.length > emitted) yield full.slice(emitted);
  return { text: full, tokens: result.tokens, stats: result.stats };
}

/** Runs streamText to the end and returns the whole text, tokens and stats. */
export async function generateText(
  model: DecodingModel,
  tokenizer: TextCodec,
  prompt: string,
  request: TextRequest = {},
): Promise<TextResult> {
  const it = streamText(model, tokenizer, prompt, request);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}
