#!/usr/bin/env node
import { main } from './index';

main(process.argv).catch((e: unknown) => {
  // One line naming the problem; the stack only when asked for.
  const err = e as Error;
  process.stderr.write(`seed-diffusion: ${err.message ?? String(e)}\n`);
  if (process.env.SD_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
