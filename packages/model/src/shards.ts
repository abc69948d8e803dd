// Token shards: a 32-byte header then the tokens, little-endian.
//   0  magic    "SDTOKENS" (8 bytes)
//   8  version  u32 = 1
//   12 vocab    u32  vocabulary size (every token < vocab)
//   16 dtype    u32  1 = uint16, 2 = int32
//   20 reserved u32  0
//   24 count    u64  number of tokens
// Documents are separated by the EOS id. Shards are read whole and validated on open.
import * as fs from 'node:fs';

import { writeFileAtomic } from './fsutil';

export const SHARD_MAGIC = 'SDTOKENS';
export const SHARD_VERSION = 1;
export const SHARD_HEADER_BYTES = 32;
const DTYPE_U16 = 1;
const DTYPE_I32 = 2;

export function writeShard(file: string, tokens: ArrayLike<number>, vocabSize: number): void {
  const u16 = vocabSize <= 65536;
  const head = Buffer.alloc(SHARD_HEADER_BYTES);
  head.write(SHARD_MAGIC, 0, 'latin1');
  head.writeUInt32LE(SHARD_VERSION, 8);
  head.writeUInt32LE(vocabSize, 12);
  head.writeUInt32LE(u16 ? DTYPE_U16 : DTYPE_I32, 16);
  head.writeBigUInt64LE(BigInt(tokens.length), 24);
  const body = u16 ? new Uint16Array(tokens.length) : new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize) {
      throw new Error(`writeShard ${file}: token ${i} = ${t} is outside [0, ${vocabSize})`);
    }
    body[i] = t;
  }
  writeFileAtomic(file, [head, new Uint8Array(body.buffer, body.byteOffset, body.byteLength)]);
}

export interface Shard {
  file: string;
  vocabSize: number;
  tokens: Int32Array;
}

/** Reads and validates a shard; errors name the file and the field. */
export function readShard(file: string, expectVocab?: number): Shard {
  const buf = fs.readFileSync(file);
  if (buf.length < SHARD_HEADER_BYTES) {
    throw new Error(`${file}: too short for a shard header (${buf.length} bytes < ${SHARD_HEADER_BYTES})`);
  }
  const magic = buf.toString('latin1', 0, 8);
  if (magic !== SHARD_MAGIC) throw new Error(`${file}: bad magic ${JSON.stringify(magic)}, expected "${SHARD_MAGIC}"`);
  const version = buf.readUInt32LE(8);
  if (version !== SHARD_VERSION) throw new Error(`${file}: unsupported version ${version}, expected ${SHARD_VERSION}`);
  const vocabSize = buf.readUInt32LE(12);
  if (vocabSize < 1) throw new Error(`${file}: vocab size field is 0`);
  if (expectVocab !== undefined && vocabSize !== expectVocab) {
    throw new Error(`${file}: vocab size ${vocabSize} does not match the expected ${expectVocab}`);
  }
  const dtype = buf.readUInt32LE(16);
  if (dtype !== DTYPE_U16 && dtype !== DTYPE_I32)
    throw new Error(`${file}: unknown dtype code ${dtype} (1 = uint16, 2 = int32)`);
  const count = Number(buf.readBigUInt64LE(24));
  const width = dtype === DTYPE_U16 ? 2 : 4;
  const want = SHARD_HEADER_BYTES + count * width;
  if (buf.length !== want) {
    throw new Error(
      `${file}: token count field says ${count} tokens (${want} bytes) but the file has ${buf.length} bytes`,
    );
  }
  // Copy the body into an aligned buffer (little-endian hosts, as the format).
  const start = buf.byteOffset + SHARD_HEADER_BYTES;
  const body = buf.buffer.slice(start, start + count * width);
  const tokens = width === 2 ? Int32Array.from(new Uint16Array(body)) : new Int32Array(body);
  for (let i = 0; i < count; i++) {
    const t = tokens[i];
    if (t < 0 || t >= vocabSize) throw new Error(`${file}: token ${i} = ${t} is outside the vocab size ${vocabSize}`);
  }
  return { file, vocabSize, tokens };
}

/** Concatenates several shards' tokens (all of one vocabulary). */
export function readShards(files: string[], expectVocab?: number): Int32Array {
  const parts = files.map((f) => readShard(f, expectVocab).tokens);
  const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
