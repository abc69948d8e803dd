// The core's side of the protocol: owns the model and the backend, runs one batched forward per
// turn of its event loop (so submissions and cancellations arrive between forwards), and sends
// each forward's events back as one message.
import type { DecodeEvent } from '@seed-diffusion/sampler';

import { EngineCore, loadModel } from './core';
import type { CoreOptions, FromCore, ToCore } from './protocol';

export interface Port {
  postMessage(m: FromCore): void;
  on(event: 'message', fn: (m: ToCore) => void): unknown;
  close?(): void;
}

/** Serves a core on `port` until it is told to close. */
export function serve(port: Port, opts: CoreOptions, model = loadModel(opts.model, opts.halfWeights)): EngineCore {
  if (opts.threads !== undefined) model.backend.numThreads = opts.threads;
  const core = new EngineCore(model, opts);
  let events: { id: number; event: DecodeEvent }[] = [];
  let scheduled = false;
  let closing = false;
  const flush = () => {
    if (events.length === 0) return;
    port.postMessage({ type: 'events', items: events });
    events = [];
  };
  const sink = (id: number) => ({
    event: (event: DecodeEvent) => events.push({ id, event }),
    end: (end: Parameters<import('./core').RequestSink['end']>[0]) => {
      flush();
      port.postMessage({ type: 'end', id, end });
    },
  });
  const loop = () => {
    scheduled = false;
    if (closing) return;
    try {
      core.step();
    } finally {
      flush();
    }
    if (core.busy) schedule();
  };
  // setImmediate, not a tight loop: messages (submit, cancel) are handled between forwards.
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(loop);
    }
  };
  port.on('message', (m: ToCore) => {
    switch (m.type) {
      case 'submit':
        try {
          core.submit(m.id, m.request, sink(m.id));
          schedule();
        } catch (e) {
          const err = e as Error;
          port.postMessage({
            type: 'end',
            id: m.id,
            end: { status: 'failed', error: { name: err.name, message: err.message } },
          });
        }
        break;
      case 'cancel':
        core.cancel(m.id);
        flush();
        break;
      case 'stats':
        port.postMessage({ type: 'stats', id: m.id, stats: core.stats() });
        break;
      case 'close':
        closing = true;
        core.pool.dispose();
        port.postMessage({ type: 'closed' });
        port.close?.();
        break;
    }
  });
  const c = model.config;
  const s = core.stats();
  port.postMessage({
    type: 'ready',
    model: { vocabSize: c.vocabSize, maxSeqLen: c.maxSeqLen, parameters: model.numParameters },
    backend: model.backend.name,
    pool: s.pool,
  });
  return core;
}
