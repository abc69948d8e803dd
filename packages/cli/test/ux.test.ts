// What a user meets around generate: where the default model comes from and the message without
// it, prompts that are not UTF-8, a block size the model was not trained with, and `bench`
// without a name.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { resolveOptions } from '@seed-diffusion/sampler';

import {
  DEFAULT_MODEL_PACKAGE,
  defaultModelDir,
  firstInvalidUtf8,
  loadModelDir,
  readPrompt,
  untrainedBlockWarning,
} from '../src/commands/generate';

const root = path.join(__dirname, '..', '..', '..');
const bin = path.join(__dirname, '..', 'dist', 'bin.js');

test('the default model is the folder of the installed models package', () => {
  expect(DEFAULT_MODEL_PACKAGE).toBe('@seed-diffusion/models-tiny');
  expect(path.resolve(defaultModelDir() as string)).toBe(path.join(root, 'models', 'seed-diffusion-tiny'));
});

test('without the models package, generate names the package and --model', () => {
  // a copy of the CLI's dist outside the workspace cannot resolve @seed-diffusion/models-tiny
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `const Module=require('node:module');const orig=Module._resolveFilename;` +
        `Module._resolveFilename=function(req,...a){if(req==='${DEFAULT_MODEL_PACKAGE}')throw Object.assign(new Error('not found'),{code:'MODULE_NOT_FOUND'});return orig.call(this,req,...a)};` +
        `process.argv=[process.argv[0],${JSON.stringify(bin)},'generate','def f():'];require(${JSON.stringify(bin)})`,
    ],
    { encoding: 'utf8' },
  );
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(
    /^seed-diffusion: no model: the default model comes from the package @seed-diffusion\/models-tiny, which is not installed/,
  );
  expect(r.stderr).toMatch(/npm install @seed-diffusion\/models-tiny/);
  expect(r.stderr).toMatch(/--model DIR/);
  expect(r.stderr).not.toMatch(/trained yet/);
});

test('a missing model folder is named, with --model and the default package', () => {
  expect(() => loadModelDir('/nonexistent/model')).toThrow(
    /no model at \/nonexistent\/model \(config.json missing\)\. Pass --model .* @seed-diffusion\/models-tiny/,
  );
});

test('a prompt on stdin must be UTF-8: the error names the first bad byte', () => {
  expect(readPrompt('-', () => Buffer.from('def f():\n    return "é"\n'))).toBe('def f():\n    return "é"\n');
  expect(() => readPrompt('-', () => Buffer.from([0x64, 0x65, 0x66, 0x20, 0xff, 0x28]))).toThrow(
    /the prompt on stdin is not valid UTF-8: byte 4 \(0xff\)/,
  );
  // a truncated sequence and an overlong encoding
  expect(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1);
  expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xc0, 0xaf]))).toBe(2);
  expect(firstInvalidUtf8(Buffer.from('ok ✓ 𝄞', 'utf8'))).toBe(Buffer.byteLength('ok ✓ 𝄞'));
  const r = spawnSync(process.execPath, [bin, 'generate', '-'], { input: Buffer.from([0x78, 0x80]), encoding: 'utf8' });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^seed-diffusion: the prompt on stdin is not valid UTF-8: byte 1 \(0x80\)/);
});

test('a prompt argument holding U+FFFD is used as given, with a warning', () => {
  const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(readPrompt('x = "\uFFFD"')).toBe('x = "\uFFFD"');
    expect(String(write.mock.calls[0][0])).toMatch(/warning: the prompt holds U\+FFFD/);
  } finally {
    write.mockRestore();
  }
});

test('a diffusion block size the model was not trained with is warned about, naming the trained sizes', () => {
  const trained = [1, 4, 8, 16, 32];
  expect(untrainedBlockWarning(resolveOptions({ blockSize: 32 }), trained)).toBeNull();
  expect(untrainedBlockWarning(resolveOptions({ blockSize: 12 }), trained)).toMatch(
    /block size 12 was not among the sizes this model was trained with \(1, 4, 8, 16, 32; .*\): .* --block 8/,
  );
  expect(untrainedBlockWarning(resolveOptions({ blockSize: 64, mode: 'nocache' }), trained)).toMatch(/--block 32/);
  // ar decodes one token per forward, verify checks every guess against ar: no warning
  expect(untrainedBlockWarning(resolveOptions({ mode: 'verify', blockSize: 12 }), trained)).toBeNull();
  expect(untrainedBlockWarning(resolveOptions({ mode: 'ar' }), trained)).toBeNull();
});

test('`bench` without a name lists the benchmarks instead of running them', () => {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'bench.mjs')], {
    encoding: 'utf8',
    timeout: 20000,
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^usage: tools\/pnpm bench <name>/);
  for (const b of ['kernels', 'sampler', 'tokenizer', 'train'])
    expect(r.stdout).toMatch(new RegExp(`^  ${b} +\\S`, 'm'));
  expect(r.stdout).not.toMatch(/== bench/);
});
