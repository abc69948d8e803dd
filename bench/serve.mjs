// Serving benchmark: `seed-diffusion serve` as a child process on loopback, loaded by streaming
// OpenAI-style clients (plain fetch + SSE parsing, as any client does).
//
//   tools/pnpm bench serve [--gen 64] [--threads 1] [--soak-s 120] [--waves 8,4,2] [--disconnect 100]
//                          [--mode cache|nocache|ar|verify --block N]   (default: the server's defaults;
//                          --soak-s 0 / --disconnect 0 skip those phases)
//
// 1. Concurrency 1, 4, 16: waves of c simultaneous streaming /v1/completions requests (held-out
//    prompts, greedy, max_tokens --gen, the server's default diffusion settings: the model's
//    recommended cache mode, blocks of 32, threshold 0.9). Aggregate tokens/s of a wave = completion
//    tokens of its c requests / wall time from sending them to the last [DONE]. The anchor is c = 1 on
//    the same server in the same run: aggregate_16_vs_1 = median wave at 16 / median wave at 1, with
//    min/max from the waves' extremes. Time to first block (send → first text chunk) and per-block
//    latency (between a request's chunks), p50/p99. During the 16-client waves /health is polled every
//    50 ms: health_p99_ms.
// 2. Soak: 8 clients in a closed loop for --soak-s seconds; RSS of the server process (from /metrics)
//    at its start and end; errors.
// 3. Disconnects: --disconnect clients start long streaming requests and abort mid-stream at random;
//    then the server must report no active or queued sequence and no KV page in use.
// Errors: any non-200, error event, stream without [DONE], or network error, in every phase.
// The configuration is fixed before the run (no best-of); loopback only; everything is bounded in
// count and time. Ends on one JSON line.
/* global fetch, AbortController, TextDecoder, setTimeout, clearTimeout, setInterval, clearInterval -- Node 20 globals */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { heldOutTexts } from './lib/held-out.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const GEN = Number(opt('gen', 64));
const THREADS = Number(opt('threads', 1));
const SOAK_S = Number(opt('soak-s', 120));
const [W1, W4, W16] = opt('waves', '8,4,2').split(',').map(Number);
const DISCONNECT = Number(opt('disconnect', 100));
const MODEL = 'seed-diffusion-tiny';
// Diffusion fields sent with every request: none by default (the model's recommended settings).
const EXTRA = {};
if (opt('mode', null)) EXTRA.mode = opt('mode', null);
if (opt('block', null)) EXTRA.block_size = Number(opt('block', null));

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const r1 = (x) => Math.round(x * 10) / 10;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Prompts: the opening of each held-out text (up to 400 characters, cut at a line end).
const held = heldOutTexts(root, null);
const prompts = held.texts.map((t) => {
  const s = t.slice(0, 400);
  const nl = s.lastIndexOf('\n');
  return nl > 40 ? s.slice(0, nl + 1) : s;
});

// The server, as a user starts it.
const child = spawn(
  process.execPath,
  [
    path.join(root, 'packages/cli/dist/bin.js'),
    'serve',
    '--port',
    '0',
    '--threads',
    String(THREADS),
    '--max-running',
    '16',
    '--max-queue',
    String(Math.max(64, DISCONNECT)),
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (m) resolve(m[1]);
  });
  child.on('exit', (c) => reject(new Error(`server exited (${c}) before listening: ${out}`)));
  setTimeout(() => reject(new Error('server did not start in 60 s')), 60_000).unref();
});
const stopServer = async () => {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
};
process.on('exit', () => child.exitCode === null && child.kill('SIGKILL'));
console.log(
  `serve bench: ${url} (loopback), model ${MODEL}, threads ${THREADS}, CPU ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length} ` +
    `(shared machine: load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}); prompts: ${held.source} (${prompts.length}); gen ${GEN}; diffusion settings: ` +
    (Object.keys(EXTRA).length ? JSON.stringify(EXTRA) : "the server's defaults (cache, b = 32, threshold 0.9)"),
);

let errors = 0;
const errorSamples = [];
function error(what) {
  errors++;
  if (errorSamples.length < 5) errorSamples.push(what);
}

/**
 * One streaming completion. Resolves with its tokens, the time to its first text chunk, and the
 * gaps between chunks; abortAfterMs (optional) leaves mid-stream.
 */
async function streamOne(prompt, { maxTokens = GEN, abortAfterMs = null } = {}) {
  const t0 = performance.now();
  const controller = new AbortController();
  let timer = null;
  if (abortAfterMs !== null) timer = setTimeout(() => controller.abort(), abortAfterMs);
  const res = { tokens: 0, ttfb: null, gaps: [], done: false, aborted: false };
  try {
    const r = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        prompt,
        max_tokens: maxTokens,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
        ...EXTRA,
      }),
      signal: controller.signal,
    });
    if (r.status !== 200) {
      error(`HTTP ${r.status}: ${(await r.text()).slice(0, 200)}`);
      return res;
    }
    const dec = new TextDecoder();
    let buf = '';
    let last = null;
    for await (const chunk of r.body) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = frame.startsWith('data: ') ? frame.slice(6) : '';
        if (data === '[DONE]') {
          res.done = true;
          continue;
        }
        const j = JSON.parse(data);
        if (j.error) {
          error(`stream error: ${j.error.message}`);
          continue;
        }
        if (j.usage) res.tokens = j.usage.completion_tokens;
        if (j.choices?.[0]?.text) {
          const now = performance.now();
          if (res.ttfb === null) res.ttfb = now - t0;
          else res.gaps.push(now - last);
          last = now;
        }
      }
    }
    if (!res.done) error('stream ended without [DONE]');
  } catch (e) {
    if (e.name === 'AbortError') res.aborted = true;
    else error(`network: ${e.message}`);
  } finally {
    if (timer) clearTimeout(timer);
  }
  return res;
}

async function metrics() {
  const text = await (await fetch(`${url}/metrics`)).text();
  const get = (name) => {
    const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return {
    active: get('sd_active_sequences'),
    queued: get('sd_queue_depth'),
    pages: get('sd_kv_pages_used'),
    inFlight: get('sd_requests_in_flight'),
    rss: get('process_resident_memory_bytes'),
    cpuSeconds: get('process_cpu_seconds_total'),
    // prom-client resets its event-loop delay histogram at each scrape: this is since the last one.
    loopP99Ms: get('nodejs_eventloop_lag_p99_seconds') * 1000,
  };
}

// Warm-up (not measured): one request, so the first wave does not pay for lazy setup.
await streamOne(prompts[0], { maxTokens: 8 });
errors = 0;

// 1. Concurrency levels.
let next = 0;
const nextPrompt = () => prompts[next++ % prompts.length];
const levels = {};
const healthMs = [];
for (const [c, waves] of [
  [1, W1],
  [4, W4],
  [16, W16],
]) {
  let polling = c === 16;
  const before = await metrics(); // also resets the server's event-loop delay histogram
  const levelT0 = performance.now();
  const poller = (async () => {
    while (polling) {
      const t = performance.now();
      try {
        const r = await fetch(`${url}/health`);
        await r.text();
        if (r.status !== 200) error(`/health ${r.status}`);
      } catch (e) {
        error(`/health: ${e.message}`);
      }
      healthMs.push(performance.now() - t);
      await sleep(50);
    }
  })();
  const aggs = [];
  const ttfb = [];
  const gaps = [];
  for (let w = 0; w < waves; w++) {
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: c }, () => streamOne(nextPrompt())));
    const wall = (performance.now() - t0) / 1000;
    const tokens = rs.reduce((a, r) => a + r.tokens, 0);
    aggs.push(tokens / wall);
    for (const r of rs) {
      if (r.ttfb !== null) ttfb.push(r.ttfb);
      gaps.push(...r.gaps);
    }
  }
  polling = false;
  await poller;
  const after = await metrics();
  // The share of one core the server process got, and its own event-loop delay: what /health latency is made of.
  const cpuShare = (after.cpuSeconds - before.cpuSeconds) / ((performance.now() - levelT0) / 1000);
  levels[c] = { aggs, ttfb, gaps, cpuShare, loopP99Ms: after.loopP99Ms };
  console.log(
    `c=${String(c).padStart(2)}: aggregate ${r1(median(aggs))} tok/s (waves ${aggs.map(r1).join(', ')}); ` +
      `first block p50 ${r1(pct(ttfb, 50))} ms p99 ${r1(pct(ttfb, 99))} ms; per block p50 ${r1(pct(gaps, 50))} ms p99 ${r1(pct(gaps, 99))} ms` +
      `; server CPU ${(100 * cpuShare).toFixed(0)} % of a core, event-loop delay p99 ${r1(after.loopP99Ms)} ms` +
      (c === 16
        ? `; /health p50 ${r1(pct(healthMs, 50))} ms p99 ${r1(pct(healthMs, 99))} ms (${healthMs.length} polls)`
        : ''),
  );
}
const m1 = median(levels[1].aggs);
const ratio = median(levels[16].aggs) / m1;
const ratioMin = Math.min(...levels[16].aggs) / Math.max(...levels[1].aggs);
const ratioMax = Math.max(...levels[16].aggs) / Math.min(...levels[1].aggs);
console.log(
  `aggregate 16 vs 1: ${ratio.toFixed(2)}x (min ${ratioMin.toFixed(2)}, max ${ratioMax.toFixed(2)}); goal >= 4x`,
);
const errorsLoad = errors;

// 2. Soak: 8 clients in a closed loop.
const soakErrors0 = errors;
const rssStart = (await metrics()).rss;
const soakT0 = performance.now();
let soakRequests = 0;
let soakTokens = 0;
const rssSamples = [rssStart];
const sampler = setInterval(async () => {
  try {
    rssSamples.push((await metrics()).rss);
  } catch {
    /* counted by the clients */
  }
}, 10_000);
await Promise.all(
  Array.from({ length: SOAK_S > 0 ? 8 : 0 }, async () => {
    while (performance.now() - soakT0 < SOAK_S * 1000) {
      const r = await streamOne(nextPrompt());
      soakRequests++;
      soakTokens += r.tokens;
    }
  }),
);
clearInterval(sampler);
const soakS = (performance.now() - soakT0) / 1000;
const rssEnd = (await metrics()).rss;
const soakErrors = errors - soakErrors0;
const rssGrowth = SOAK_S > 0 ? ((rssEnd - rssStart) / rssStart) * 100 : NaN;
console.log(
  `soak: 8 clients for ${soakS.toFixed(0)} s: ${soakRequests} requests, ${r1(soakTokens / soakS)} tok/s, ${soakErrors} errors; ` +
    `RSS start ${(rssStart / 2 ** 20).toFixed(1)} MiB, end ${(rssEnd / 2 ** 20).toFixed(1)} MiB (${rssGrowth.toFixed(1)} %), ` +
    `min ${(Math.min(...rssSamples) / 2 ** 20).toFixed(1)} max ${(Math.max(...rssSamples) / 2 ** 20).toFixed(1)} MiB`,
);

// 3. Disconnects mid-stream.
const discErrors0 = errors;
const disc = await Promise.all(
  Array.from({ length: DISCONNECT }, (_, i) =>
    streamOne(nextPrompt(), { maxTokens: 512, abortAfterMs: 200 + ((i * 7919) % 3000) }),
  ),
);
const aborted = disc.filter((r) => r.aborted).length;
const t0 = performance.now();
let after = await metrics();
while (
  (after.active > 0 || after.queued > 0 || after.pages > 0 || after.inFlight > 0) &&
  performance.now() - t0 < 30_000
) {
  await sleep(100);
  after = await metrics();
}
const settledMs = performance.now() - t0;
const discErrors = errors - discErrors0;
console.log(
  `disconnects: ${DISCONNECT} clients, ${aborted} left mid-stream; after ${settledMs.toFixed(0)} ms: ` +
    `${after.active} active, ${after.queued} queued, ${after.pages} KV pages used, ${after.inFlight} requests in flight; ${discErrors} errors`,
);
if (errorSamples.length) console.log(`error samples: ${errorSamples.join(' | ')}`);

await stopServer();
const lv = (c) => ({
  aggregate_tps_median: r1(median(levels[c].aggs)),
  aggregate_tps_min: r1(Math.min(...levels[c].aggs)),
  aggregate_tps_max: r1(Math.max(...levels[c].aggs)),
  first_block_p50_ms: r1(pct(levels[c].ttfb, 50)),
  first_block_p99_ms: r1(pct(levels[c].ttfb, 99)),
  block_p50_ms: r1(pct(levels[c].gaps, 50)),
  block_p99_ms: r1(pct(levels[c].gaps, 99)),
  server_cpu_share: Number(levels[c].cpuShare.toFixed(2)),
  server_event_loop_p99_ms: r1(levels[c].loopP99Ms),
});
console.log(
  JSON.stringify({
    bench: 'serve',
    cpu: `${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}`,
    threads: THREADS,
    gen: GEN,
    settings: Object.keys(EXTRA).length ? EXTRA : 'server defaults',
    c1: lv(1),
    c4: lv(4),
    c16: lv(16),
    aggregate_16_vs_1: Number(ratio.toFixed(2)),
    aggregate_16_vs_1_min: Number(ratioMin.toFixed(2)),
    aggregate_16_vs_1_max: Number(ratioMax.toFixed(2)),
    health_p99_ms: r1(pct(healthMs, 99)),
    health_polls: healthMs.length,
    errors,
    errors_load: errorsLoad,
    soak_s: Math.round(soakS),
    soak_requests: soakRequests,
    soak_errors: soakErrors,
    soak_rss_start_mib: r1(rssStart / 2 ** 20),
    soak_rss_end_mib: r1(rssEnd / 2 ** 20),
    soak_rss_growth_pct: r1(rssGrowth),
    disconnect_clients: DISCONNECT,
    disconnect_aborted: aborted,
    disconnect_active_after: after.active,
    disconnect_queued_after: after.queued,
    disconnect_pages_after: after.pages,
    disconnect_settled_ms: Math.round(settledMs),
  }),
);
process.exit(0);
