// Worker-thread entry of an Engine: the core, its model and its backend live here, so the
// caller's event loop never waits on a forward.
import { parentPort, workerData } from 'node:worker_threads';

import type { CoreOptions, FromCore } from './protocol';
import { serve } from './serve';

if (!parentPort) throw new Error('@seed-diffusion/engine worker: start it as a worker thread (the Engine class does)');
const port = parentPort;
try {
  serve(port as never, workerData as CoreOptions);
} catch (e) {
  port.postMessage({ type: 'init_error', message: (e as Error).message } satisfies FromCore);
}
