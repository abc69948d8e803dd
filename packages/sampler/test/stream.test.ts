import {
  DiffusionGenerator,
  findStop,
  generateText,
  renderBlock,
  streamText,
  TerminalView,
  type TextCodec,
  visible,
} from '../src';
import { EOS, MASK, tinyModel } from './tiny-model';

// A character-level codec over the tiny model's 62 ordinary ids (EOS and [MASK] decode to nothing).
const CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567 \n';
const codec: TextCodec = {
  encode: (text) =>
    [...text].map((ch) => {
      const i = CHARS.indexOf(ch);
      if (i < 0) throw new Error(`char codec: no id for ${JSON.stringify(ch)}`);
      return i;
    }),
  decode: (ids) => Array.from(ids, (i) => (i === EOS || i === MASK ? '' : CHARS[i])).join(''),
};

const model = tinyModel();
const prompt = 'def add a b\n  return';
const opts = { blockSize: 8, maxNewTokens: 40, stopAtEos: false };

async function collect(it: AsyncGenerator<string, unknown, void>): Promise<string[]> {
  const out: string[] = [];
  let r = await it.next();
  while (!r.done) {
    out.push(r.value);
    r = await it.next();
  }
  return out;
}

test('text deltas, block by block, concatenate to the whole output', async () => {
  const blocks: number[] = [];
  const it = streamText(model, codec, prompt, {
    ...opts,
    onEvent: (e) => e.type === 'block_end' && blocks.push(e.block),
  });
  const deltas = await collect(it);
  const whole = await generateText(model, codec, prompt, opts);
  expect(deltas.join('')).toBe(whole.text);
  expect(whole.text).toBe(codec.decode(whole.tokens));
  expect(whole.tokens).toHaveLength(40);
  expect(deltas.length).toBeLessThanOrEqual(blocks.length + 1);
  expect(deltas.length).toBeGreaterThan(1);
});

test('a stop string ends the text before it, and nothing past it is streamed', async () => {
  const full = (await generateText(model, codec, prompt, opts)).text;
  const stop = full.slice(17, 20);
  const cut = full.indexOf(stop);
  const it = streamText(model, codec, prompt, { ...opts, stop: ['ZZZZZZ', stop] });
  const deltas = await collect(it);
  expect(deltas.join('')).toBe(full.slice(0, cut));
  const r = await generateText(model, codec, prompt, { ...opts, stop: [stop] });
  expect(r.text).toBe(full.slice(0, cut));
  expect(r.stats.stopReason).toBe('stop');
  expect(r.tokens.length).toBeLessThan(40);
  expect(findStop('abcXYdefXY', ['def', 'XY'])).toBe(3);
  expect(findStop('abc', ['x'])).toBe(-1);
});

test('clear errors for an empty prompt and bad stop strings', async () => {
  await expect(generateText(model, codec, '')).rejects.toThrow(/prompt is empty/);
  await expect(generateText(model, codec, 'ab', { stop: [''] })).rejects.toThrow(/stop/);
  await expect(generateText(model, codec, 'ab', { mode: 'fast' } as never)).rejects.toThrow(/mode/);
});

describe('terminal view', () => {
  const decodeToken = (id: number) => codec.decode([id]);

  test('renders masks dim, new tokens green, rewrites yellow, newlines visibly', () => {
    const r = renderBlock([0, MASK, 1, 62 - 1, 2], new Set([2]), new Set([4]), {
      maskId: MASK,
      decodeToken,
      color: true,
    });
    expect(r.width).toBe(5);
    expect(r.text).toBe('a\x1b[2m░\x1b[0m\x1b[1;32mb\x1b[0m↵\x1b[1;33mc\x1b[0m');
    expect(renderBlock([0, MASK], new Set(), new Set(), { maskId: MASK, decodeToken, color: false }).text).toBe('a░');
    expect(visible('a\tb\r\nc\x07')).toBe('a→b↵c·');
  });

  test('on a TTY the block is redrawn in place each step and erased when final', async () => {
    const writes: string[] = [];
    const sink = { isTTY: true, columns: 6, write: (s: string) => writes.push(s) };
    const view = new TerminalView(sink, { maskId: MASK, decodeToken, color: true });
    view.printed('xy');
    const it = streamText(model, codec, prompt, { ...opts, maxNewTokens: 16, onEvent: view.listener });
    for (let r = await it.next(); !r.done; r = await it.next()) view.printed(r.value);
    const out = writes.join('');
    expect(out).toContain('░');
    expect(out).toContain('\x1b[1;32m');
    /* eslint-disable no-control-regex -- ANSI cursor sequences */
    expect(out).toMatch(/\r\x1b\[\d+C\x1b\[J/); // back to the start column, clear, redraw
    expect(out).toMatch(/\x1b\[\d+A/); // blocks wider than the 6 columns wrap: move up to redraw
    /* eslint-enable no-control-regex */
  });

  test('without a TTY it prints one line per step', async () => {
    const lines: string[] = [];
    const view = new TerminalView({ write: (s: string) => lines.push(s) }, { maskId: MASK, decodeToken, color: true });
    const r = await generateText(model, codec, prompt, { ...opts, maxNewTokens: 16, onEvent: view.listener });
    const stepLines = lines.filter((l) => / step \d+ /.test(l));
    expect(stepLines).toHaveLength(r.stats.stepForwards);
    expect(lines.join('')).not.toContain('\x1b[');
    expect(lines[0]).toMatch(/^block 0 start: .*░/);
  });
});

test('DiffusionGenerator gives eval text, tokens, forwards and seconds, seeded per sample', async () => {
  const g = new DiffusionGenerator(model, codec, { ...opts, maxNewTokens: 16, temperature: 1, stop: ['ZZ'] });
  expect(g.settings).toMatchObject({ blockSize: 8, maxNewTokens: 16, temperature: 1, stop: ['ZZ'] });
  const a = await g.generate(prompt, { seed: 11, mode: 'complete' });
  const b = await g.generate(prompt, { seed: 11 });
  const c = await g.generate(prompt, { seed: 12 });
  expect(a.text).toBe(b.text);
  expect(a.text).not.toBe(c.text);
  expect(a.tokens).toBe(16);
  expect(a.forwards).toBeGreaterThan(0);
  expect(a.seconds).toBeGreaterThan(0);
  await expect(g.generate(prompt, { mode: 'edit' })).rejects.toThrow(/edit tasks are not supported/);
  expect(() => new DiffusionGenerator(model, codec, { blockSize: 0 })).toThrow(/blockSize/);
});
