// A checkpoint written here, read by an independent PyTorch forward that follows the Hugging
// Face Llama/Qwen2 conventions (NeoX rotate_half RoPE, no q/k permutation), gives the same
// logits. Runs when Debian's /usr/bin/python3 has torch; otherwise it is reported skipped with the reason.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { backend } from '@seed-diffusion/native';

import { Model } from '../src/model';

backend().numThreads = 1;
const PY = '/usr/bin/python3';
const hasTorch = fs.existsSync(PY) && spawnSync(PY, ['-c', 'import torch'], { timeout: 60000 }).status === 0;

// Declared skipped, with the reason, where torch is missing (CI installs python3-torch, so
// there it always runs).
const torchTest = hasTorch
  ? test
  : (name: string, fn: () => void) =>
      test.skip(`${name} [skipped: ${PY} has no torch (apt-get install python3-torch)]`, fn);
torchTest('PyTorch (HF conventions) reproduces our bidirectional and causal logits within 1e-4', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-hf-'));
  const m = Model.init(
    {
      vocabSize: 50,
      hiddenSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      intermediateSize: 48,
      maskTokenId: 49,
      eosTokenId: 0,
      initStd: 0.2,
      tieWordEmbeddings: false,
      qkvBias: true,
    },
    3,
  );
  m.save(dir);
  const ids = Int32Array.from({ length: 10 }, (_, i) => (i * 7) % 49);
  const logits = {
    ids: Array.from(ids),
    bidir: Array.from(m.forwardFull(ids, { mask: 'bidir' }).toArray()),
    causal: Array.from(m.forwardFull(ids, { mask: 'block_causal', block: 1 }).toArray()),
  };
  fs.writeFileSync(path.join(dir, 'logits.json'), JSON.stringify(logits));
  const r = spawnSync(PY, [path.join(__dirname, 'hf_parity.py'), dir], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_CORETYPE: 'HASWELL', OMP_NUM_THREADS: '1' },
    timeout: 120000,
  });
  expect(r.stderr).toBe('');
  const diff = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  expect(diff.bidir).toBeLessThan(1e-4);
  expect(diff.causal).toBeLessThan(1e-4);
});
