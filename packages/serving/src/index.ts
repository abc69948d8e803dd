// @seed-diffusion/serving: an OpenAI-compatible HTTP server for diffusion code models on the
// batched decoding engine, with SSE streaming, a diffusion step stream and a live playground.
export { createServer, startServer } from './server';
export type { DiffusionServer } from './server';
export type { ServerOptions, ResolvedOptions } from './options';
export { ApiError } from './errors';
export type { OpenAIErrorBody } from './errors';
export { FALLBACK_TURN, fallbackFormat, loadChatFormat } from './chat-template';
export type { ChatFormat, ChatMessage } from './chat-template';
export { diffusionDefaults, loadModelInfo } from './model-info';
export type { DiffusionDefaults, ModelInfo } from './model-info';
export { DEFAULT_MAX_TOKENS } from './context';
