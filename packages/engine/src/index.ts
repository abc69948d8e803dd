// @seed-diffusion/engine: many decoding requests per forward over a paged KV cache, on a worker
// thread, behind `engine.submit(request)` → an async iterator of that request's events.
export { Engine, EngineRequestError, RequestStream } from './engine';
export type { CancelledEvent, EngineEvent, EngineOptions } from './engine';
export { cacheRows, EngineCore, loadModel, QueueFullError } from './core';
export type { RequestSink } from './core';
export { serve } from './serve';
export type { Port } from './serve';
export type { CoreOptions, EngineRequest, EngineRequestOptions, EngineStats, ModelSource, PoolStats } from './protocol';
