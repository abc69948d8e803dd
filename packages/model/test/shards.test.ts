// Token shards: round trip in both dtypes, validation errors naming the file and field,
// and the resumable window sampler.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { readShard, readShards, writeShard } from '../src/shards';
import { WindowSampler } from '../src/windows';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sd-shard-'));

test.each([
  [300, 'uint16', 2],
  [70000, 'int32', 4],
])('vocab %i stores %s tokens and reads them back', (vocab, _name, width) => {
  const f = path.join(tmp(), 'train-00000.bin');
  const toks = Array.from({ length: 1000 }, (_, i) => (i * 7919) % vocab);
  writeShard(f, toks, vocab);
  expect(fs.statSync(f).size).toBe(32 + 1000 * width);
  const s = readShard(f, vocab);
  expect(Array.from(s.tokens)).toEqual(toks);
  expect(s.vocabSize).toBe(vocab);
  expect(Array.from(readShards([f, f], vocab)).length).toBe(2000);
});

test('bad shards are refused with the file and field named', () => {
  const d = tmp();
  const f = path.join(d, 's.bin');
  writeShard(f, [1, 2, 3, 4], 10);
  const good = fs.readFileSync(f);
  const put = (b: Buffer) => fs.writeFileSync(f, b);
  const bad = (mutate: (b: Buffer) => Buffer, re: RegExp) => {
    put(mutate(Buffer.from(good)));
    expect(() => readShard(f)).toThrow(re);
  };
  bad((b) => (b.write('XXTOKENS', 0, 'latin1'), b), /s\.bin: bad magic "XXTOKENS"/);
  bad((b) => (b.writeUInt32LE(9, 8), b), /s\.bin: unsupported version 9/);
  bad((b) => (b.writeUInt32LE(7, 16), b), /s\.bin: unknown dtype code 7/);
  bad(
    (b) => b.subarray(0, b.length - 2),
    /s\.bin: token count field says 4 tokens \(40 bytes\) but the file has 38 bytes/,
  );
  bad((b) => b.subarray(0, 10), /s\.bin: too short for a shard header/);
  bad((b) => (b.writeUInt16LE(12, 32), b), /s\.bin: token 0 = 12 is outside the vocab size 10/);
  put(good);
  expect(() => readShard(f, 11)).toThrow(/s\.bin: vocab size 10 does not match the expected 11/);
  expect(() => writeShard(f, [1, 10], 10)).toThrow(/token 1 = 10 is outside \[0, 10\)/);
});

test('window sampler visits every window once per epoch and resumes from its cursor', () => {
  const toks = Int32Array.from({ length: 100 }, (_, i) => i);
  const a = new WindowSampler(toks, 10, 3);
  const firsts: number[] = [];
  for (let i = 0; i < 10; i++) firsts.push(a.next(1)[0]);
  expect([...firsts].sort((x, y) => x - y)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  const b = new WindowSampler(toks, 10, 3);
  b.next(4);
  const c = new WindowSampler(toks, 10, 3);
  c.cursor = { ...b.cursor };
  expect(Array.from(c.next(9))).toEqual(Array.from(b.next(9)));
  expect(() => new WindowSampler(toks, 101, 0)).toThrow(/shorter than one window of 101/);
});
