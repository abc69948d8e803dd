// Request bodies of /v1/completions, /v1/chat/completions and /v1/diffusion/stream, checked field by
// field: a wrong type, a value out of range, an unknown field or an OpenAI feature this server does
// not implement is a 400 naming the field — never ignored, never a crash.
import type { ChatMessage } from './chat-template';
import { ApiError, badField } from './errors';
import type { DiffusionDefaults } from './model-info';

export interface DiffusionSettings {
  mode: DiffusionDefaults['mode'];
  blockSize: number;
  threshold: number;
  editThreshold: number;
  selfCorrect: boolean;
}

export interface SamplingParams {
  model: string;
  /** Undefined: fill up to the server's default (min(256, context left)). */
  maxTokens: number | undefined;
  temperature: number;
  topP: number;
  topK: number;
  seed: number | undefined;
  n: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  diffusion: DiffusionSettings;
}

export interface CompletionParams extends SamplingParams {
  prompts: string[];
  echo: boolean;
}

export interface ChatParams extends SamplingParams {
  messages: ChatMessage[];
}

type Body = Record<string, unknown>;

export interface Limits {
  maxN: number;
  /** Longest context (prompt + generated tokens). */
  maxContext: number;
  defaults: DiffusionDefaults;
}

/** Fields shared by both endpoints; the extra diffusion ones are snake_case like OpenAI's. */
const SAMPLING_FIELDS = [
  'model',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'n',
  'stop',
  'stream',
  'stream_options',
  'user',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'mode',
  'block_size',
  'threshold',
  'edit_threshold',
  'self_correct',
];
const COMPLETION_FIELDS = new Set([...SAMPLING_FIELDS, 'prompt', 'echo', 'logprobs', 'best_of', 'suffix']);
const CHAT_FIELDS = new Set([
  ...SAMPLING_FIELDS,
  'messages',
  'max_completion_tokens',
  'logprobs',
  'top_logprobs',
  'response_format',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'store',
  'metadata',
]);
const DIFFUSION_FIELDS = new Set([...SAMPLING_FIELDS, 'prompt']);

function requireObject(body: unknown): Body {
  if (body === undefined || body === null) {
    throw new ApiError(
      400,
      'the request needs a JSON object body (Content-Type: application/json)',
      'invalid_request_error',
      null,
      'invalid_body',
    );
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(
      400,
      `the request body must be a JSON object, got ${Array.isArray(body) ? 'an array' : typeof body}`,
      'invalid_request_error',
      null,
      'invalid_body',
    );
  }
  return body as Body;
}

function rejectUnknown(b: Body, known: Set<string>): void {
  for (const k of Object.keys(b)) {
    if (!known.has(k)) {
      throw new ApiError(
        400,
        `unknown field "${k.slice(0, 64)}": this endpoint accepts ${[...known].join(', ')}`,
        'invalid_request_error',
        k.slice(0, 64),
        'unknown_field',
      );
    }
  }
}

function num(b: Body, k: string, lo: number, hi: number, dflt: number): number {
  const v = b[k];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badField(k, 'must be a number', v);
  if (v < lo || v > hi) throw badField(k, `must be in [${lo}, ${hi}]`, v);
  return v;
}

function int(b: Body, k: string, lo: number, hi: number): number | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badField(k, 'must be an integer', v);
  if (v < lo || v > hi) throw badField(k, `must be an integer in [${lo}, ${hi}]`, v);
  return v;
}

function bool(b: Body, k: string, dflt: boolean): boolean {
  const v = b[k];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw badField(k, 'must be true or false', v);
  return v;
}

/** A known OpenAI option this server does not implement: accepted only at its no-op value. */
function onlyDefault(b: Body, k: string, isDefault: (v: unknown) => boolean, what: string): void {
  const v = b[k];
  if (v === undefined || v === null || isDefault(v)) return;
  throw new ApiError(
    400,
    `${k}: not supported by this server (${what}), got ${JSON.stringify(v).slice(0, 60)}`,
    'invalid_request_error',
    k,
    'unsupported_parameter',
  );
}

function sampling(b: Body, limits: Limits, maxTokensField: string): SamplingParams {
  const model = b.model;
  if (typeof model !== 'string' || model.length === 0)
    throw badField('model', 'required: a model name (see GET /v1/models)', model);
  const maxTokens = int(b, maxTokensField, 1, limits.maxContext);
  const stopRaw = b.stop;
  let stop: string[] = [];
  if (typeof stopRaw === 'string') stop = [stopRaw];
  else if (Array.isArray(stopRaw)) stop = stopRaw as string[];
  else if (stopRaw !== undefined && stopRaw !== null)
    throw badField('stop', 'must be a string or a list of up to 4 strings', stopRaw);
  if (stop.length > 4) throw badField('stop', 'at most 4 stop strings', stop.length);
  for (const s of stop) {
    if (typeof s !== 'string' || s.length === 0 || s.length > 256)
      throw badField('stop', 'each stop must be a non-empty string of at most 256 characters', s);
  }
  const so = b.stream_options;
  let includeUsage = false;
  if (so !== undefined && so !== null) {
    if (typeof so !== 'object' || Array.isArray(so)) throw badField('stream_options', 'must be an object', so);
    for (const k of Object.keys(so)) if (k !== 'include_usage') throw badField(`stream_options.${k}`, 'unknown field');
    includeUsage = bool(so as Body, 'include_usage', false);
  }
  if (b.user !== undefined && typeof b.user !== 'string') throw badField('user', 'must be a string', b.user);
  onlyDefault(b, 'presence_penalty', (v) => v === 0, 'only 0');
  onlyDefault(b, 'frequency_penalty', (v) => v === 0, 'only 0');
  onlyDefault(b, 'logit_bias', (v) => typeof v === 'object' && Object.keys(v as object).length === 0, 'only {}');
  const d = limits.defaults;
  const mode = b.mode ?? d.mode;
  if (!['cache', 'nocache', 'ar', 'verify'].includes(mode as string)) {
    throw badField('mode', 'must be one of cache, nocache, ar, verify', mode);
  }
  const blockSize = int(b, 'block_size', 1, 256);
  if (mode === 'ar' && blockSize !== undefined && blockSize !== 1) {
    throw badField(
      'block_size',
      "mode 'ar' decodes one token per block, so block_size must be 1 or left out",
      blockSize,
    );
  }
  const selfCorrect = bool(b, 'self_correct', d.selfCorrect && mode !== 'verify');
  if (selfCorrect && mode === 'verify') throw badField('self_correct', "cannot be combined with mode 'verify'", true);
  return {
    model,
    maxTokens,
    temperature: num(b, 'temperature', 0, 2, 0),
    topP: num(b, 'top_p', Number.MIN_VALUE, 1, 1),
    topK: int(b, 'top_k', 0, 1 << 20) ?? 0,
    seed: int(b, 'seed', 0, 2 ** 31 - 1),
    n: int(b, 'n', 1, limits.maxN) ?? 1,
    stop,
    stream: bool(b, 'stream', false),
    includeUsage,
    diffusion: {
      mode: mode as DiffusionSettings['mode'],
      blockSize: mode === 'ar' ? 1 : (blockSize ?? (mode === 'verify' ? 32 : d.blockSize)),
      threshold: num(b, 'threshold', 0, 1, d.threshold),
      editThreshold: num(b, 'edit_threshold', 0, 1, d.editThreshold),
      selfCorrect,
    },
  };
}

export function parseCompletion(body: unknown, limits: Limits): CompletionParams {
  const b = requireObject(body);
  rejectUnknown(b, COMPLETION_FIELDS);
  const p = b.prompt;
  let prompts: string[];
  if (typeof p === 'string') prompts = [p];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')) prompts = p as string[];
  else throw badField('prompt', 'required: a string or a non-empty list of strings', p);
  prompts.forEach((x, i) => {
    if (x.length === 0) throw badField(prompts.length > 1 ? `prompt[${i}]` : 'prompt', 'must not be empty');
  });
  onlyDefault(b, 'logprobs', (v) => v === 0, 'log-probabilities are not returned');
  onlyDefault(b, 'suffix', (v) => v === '', 'no fill-in-the-middle on this endpoint');
  const s = sampling(b, limits, 'max_tokens');
  onlyDefault(b, 'best_of', (v) => v === 1 || v === s.n, 'best_of must equal n');
  if (prompts.length * s.n > limits.maxN) {
    throw badField('n', `prompts × n must be at most ${limits.maxN}`, prompts.length * s.n);
  }
  return { ...s, prompts, echo: bool(b, 'echo', false) };
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

export function parseChat(body: unknown, limits: Limits): ChatParams {
  const b = requireObject(body);
  rejectUnknown(b, CHAT_FIELDS);
  const msgs = b.messages;
  if (!Array.isArray(msgs) || msgs.length === 0)
    throw badField('messages', 'required: a non-empty list of {role, content}', msgs);
  const messages = msgs.map((m, i): ChatMessage => {
    const at = `messages[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m))
      throw badField(at, 'must be an object {role, content}', m);
    const { role, content, name, ...rest } = m as Body;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined)
      throw badField(`${at}.${extra}`, 'unknown field (this server supports role, content, name)');
    if (typeof role !== 'string' || !ROLES.has(role))
      throw badField(`${at}.role`, `must be one of ${[...ROLES].join(', ')}`, role);
    if (name !== undefined && typeof name !== 'string') throw badField(`${at}.name`, 'must be a string', name);
    let text: string;
    if (typeof content === 'string') text = content;
    else if (Array.isArray(content)) {
      text = content
        .map((part, j) => {
          const p = part as Body;
          if (!p || p.type !== 'text' || typeof p.text !== 'string') {
            throw badField(`${at}.content[${j}]`, 'only text parts ({type: "text", text}) are supported', part);
          }
          return p.text;
        })
        .join('');
    } else throw badField(`${at}.content`, 'must be a string or a list of text parts', content);
    return { role: role as ChatMessage['role'], content: text };
  });
  if (b.max_tokens !== undefined && b.max_completion_tokens !== undefined) {
    throw badField('max_completion_tokens', 'give max_tokens or max_completion_tokens, not both');
  }
  onlyDefault(b, 'logprobs', (v) => v === false, 'log-probabilities are not returned');
  onlyDefault(b, 'top_logprobs', (v) => v === 0, 'log-probabilities are not returned');
  onlyDefault(b, 'response_format', (v) => (v as Body)?.type === 'text', 'only {"type": "text"}');
  onlyDefault(b, 'tools', (v) => Array.isArray(v) && v.length === 0, 'no tool calling');
  onlyDefault(b, 'tool_choice', (v) => v === 'none', 'no tool calling');
  onlyDefault(b, 'parallel_tool_calls', () => true, 'no tool calling');
  onlyDefault(b, 'store', (v) => v === false, 'nothing is stored');
  onlyDefault(b, 'metadata', () => true, 'nothing is stored');
  const s = sampling(b, limits, b.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens');
  return { ...s, messages };
}

/** The playground's step stream: a prompt and the same sampling and diffusion fields. */
export function parseDiffusion(body: unknown, limits: Limits): SamplingParams & { prompt: string } {
  const b = requireObject(body);
  rejectUnknown(b, DIFFUSION_FIELDS);
  if (typeof b.prompt !== 'string' || b.prompt.length === 0)
    throw badField('prompt', 'required: a non-empty string', b.prompt);
  const s = sampling(b, limits, 'max_tokens');
  if (s.n !== 1) throw badField('n', 'the step stream decodes one completion', s.n);
  return { ...s, prompt: b.prompt };
}
