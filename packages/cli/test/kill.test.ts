// `kill -9` during training, as an unlucky user does it: a run checkpointing every step is killed
// at random moments over and over (many kills land inside a save), each time resumed with
// `train --resume`; every time the `checkpoint` link names a complete checkpoint that loads, and
// the run finally completed through all the kills ends bit-identical to one that never stopped.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Model, isTempName, verifyCheckpoint } from '@seed-diffusion/model';

const bin = path.join(__dirname, '..', 'dist', 'bin.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-kill-'));
const env = { ...process.env, OMP_NUM_THREADS: '1' };
const data = path.join(dir, 'data');
const STEPS = 30;
const train = (out: string, ...extra: string[]) => [
  bin,
  'train',
  '--data',
  data,
  '--out',
  out,
  '--config',
  'tiny',
  '--steps',
  String(STEPS),
  '--batch',
  '2',
  '--seq',
  '32',
  '--eval-every',
  '0',
  '--checkpoint-every',
  '1',
  '--keep-checkpoints',
  '2',
  '--block-sizes',
  '4,8',
  ...extra,
];

/**
 * Runs `args` and kills it with SIGKILL `ms` after it has written its next checkpoint (so kills land
 * in training and saving, not in process start-up), or lets it finish first.
 */
function runAndKill(args: string[], out: string, ms: number): Promise<'killed' | 'finished'> {
  const stepDirs = () => {
    const d = path.join(out, 'checkpoints');
    return fs.existsSync(d)
      ? fs
          .readdirSync(d)
          .filter((n) => /^step-\d+$/.test(n))
          .sort()
          .at(-1)
      : undefined;
  };
  const start = stepDirs();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { env, stdio: 'ignore' });
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      if (stepDirs() !== start) {
        clearInterval(poll);
        timer = setTimeout(() => p.kill('SIGKILL'), ms);
      }
    }, 5);
    p.on('exit', (_code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve(signal === 'SIGKILL' ? 'killed' : 'finished');
    });
  });
}

beforeAll(() => {
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  for (let i = 0; i < 12; i++) {
    fs.writeFileSync(path.join(src, `m${i}.py`), `def f${i}(x):\n    return x * ${i} + ${i % 5}\n`.repeat(6));
  }
  const r = spawnSync(
    process.execPath,
    [bin, 'data', 'build', '--src', src, '--out', data, '--vocab-size', '300', '--valid-fraction', '0.2'],
    {
      encoding: 'utf8',
      env,
    },
  );
  expect(r.status).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('SIGKILL at random moments, 12 times: always resumable, and the finished run is bit-identical', async () => {
  const ref = path.join(dir, 'ref');
  expect(spawnSync(process.execPath, train(ref), { env }).status).toBe(0);
  const out = path.join(dir, 'run');
  let kills = 0;
  let sawStep = 0;
  let finished = false;
  // Delays after a run's next checkpoint appears: a step and a save take a few tens of ms.
  const delays = [3, 17, 41, 9, 60, 29, 0, 75, 13, 50, 35, 22];
  for (const [i, ms] of delays.entries()) {
    const args = fs.existsSync(path.join(out, 'checkpoint')) ? train(out, '--resume') : train(out);
    const how = await runAndKill(args, out, ms);
    if (how === 'finished') {
      finished = true;
      break;
    }
    kills++;
    const link = path.join(out, 'checkpoint');
    if (!fs.existsSync(link)) continue; // killed before the first checkpoint
    const v = verifyCheckpoint(link);
    expect({ i, ok: v.ok }).toEqual({ i, ok: true });
    if (v.ok) sawStep = Math.max(sawStep, v.step);
    Model.load(link).dispose();
  }
  // Finish the run through whatever the last kill left.
  if (!finished) {
    const fin = spawnSync(process.execPath, train(out, '--resume'), { env, encoding: 'utf8' });
    expect({ status: fin.status, stdout: fin.stdout }).toEqual({
      status: 0,
      stdout: expect.stringMatching(/resuming from .*step-\d+ at step \d+\/30(.|\n)*done: step 30/),
    });
  }
  const weights = (d: string) => fs.readFileSync(path.join(d, 'checkpoint', 'model.safetensors'));
  const state = (d: string) => {
    const s = JSON.parse(fs.readFileSync(path.join(d, 'checkpoint', 'trainer_state.json'), 'utf8'));
    return { step: s.step, rng: s.rng, cursor: s.cursor, tokens: s.tokens };
  };
  expect(state(out)).toEqual(state(ref));
  expect(weights(out).equals(weights(ref))).toBe(true);
  expect(
    fs
      .readFileSync(path.join(out, 'checkpoint', 'optimizer.safetensors'))
      .equals(fs.readFileSync(path.join(ref, 'checkpoint', 'optimizer.safetensors'))),
  ).toBe(true);
  const leftovers = [out, path.join(out, 'checkpoints')].flatMap((d) => fs.readdirSync(d).filter(isTempName));
  expect(leftovers).toEqual([]);
  console.log(
    `${kills} SIGKILLs during training (checkpoint every step, up to step ${sawStep} seen), all resumed; final weights, Adam moments and state bit-identical to the uninterrupted run`,
  );
  expect(kills).toBeGreaterThanOrEqual(6);
}, 300_000);
