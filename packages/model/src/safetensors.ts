// Our own safetensors reader and writer (https://github.com/huggingface/safetensors format):
// 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
// then the raw little-endian tensor bytes. F32, F16 and BF16 are read and written (always
// decoded to float32 in memory); sharded checkpoints use model.safetensors.index.json.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { f32ToBf16, f32ToF16, widenTable } from './dtype';
import { writeFileAtomic } from './fsutil';

export type StDtype = 'F32' | 'F16' | 'BF16';
const BYTES: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface StEntry {
  dtype: StDtype;
  shape: number[];
  /** Byte range relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Encodes float32 values as `dtype` little-endian bytes. */
export function encodeTensor(data: Float32Array, dtype: StDtype): Uint8Array {
  if (dtype === 'F32') {
    const out = new Uint8Array(data.length * 4);
    if (LITTLE) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return out;
    }
    const dv = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
    return out;
  }
  const out = new Uint8Array(data.length * 2);
  const dv = new DataView(out.buffer);
  const conv = dtype === 'F16' ? f32ToF16 : f32ToBf16;
  for (let i = 0; i < data.length; i++) dv.setUint16(i * 2, conv(data[i]), true);
  return out;
}

/** Decodes little-endian `dtype` bytes into dst (float32). */
export function decodeTensor(bytes: Uint8Array, dtype: StDtype, dst: Float32Array): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') {
    if (LITTLE) {
      new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(bytes.subarray(0, dst.byteLength));
      return;
    }
    for (let i = 0; i < dst.length; i++) dst[i] = dv.getFloat32(i * 4, true);
    return;
  }
  // One lookup per value: every 16-bit pattern widened once (a 7M-value checkpoint loads ~5x faster).
  const table = widenTable(dtype === 'F16' ? 'f16' : 'bf16');
  for (let i = 0; i < dst.length; i++) dst[i] = table[dv.getUint16(i * 2, true)];
}

/** Writes one .safetensors file atomically. */
export function writeSafetensors(
  file: string,
  tensors: NamedTensor[],
  opts: { dtype?: StDtype; metadata?: Record<string, string> } = {},
): void {
  const dtype = opts.dtype ?? 'F32';
  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = opts.metadata;
  const blobs: Uint8Array[] = [];
  let off = 0;
  for (const t of tensors) {
    if (numel(t.shape) !== t.data.length) {
      throw new Error(`safetensors: tensor ${t.name} has ${t.data.length} values but shape [${t.shape}]`);
    }
    const bytes = encodeTensor(t.data, dtype);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [off, off + bytes.length] };
    blobs.push(bytes);
    off += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keep the data section 8-byte aligned
  const head = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  writeFileAtomic(file, [len, head, ...blobs]);
}

/** An open .safetensors file: header parsed and validated; tensors read on demand. */
export class SafetensorsFile {
  readonly entries = new Map<string, StEntry>();
  readonly metadata: Record<string, string> = {};
  private readonly dataStart: number;

  private constructor(
    readonly file: string,
    private readonly fd: number,
  ) {
    const size = fs.fstatSync(fd).size;
    if (size < 8) throw new Error(`${file}: truncated safetensors file (${size} bytes, no header length)`);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const hlen = Number(lenBuf.readBigUInt64LE());
    if (hlen < 2 || hlen > size - 8 || hlen > 100_000_000) {
      throw new Error(`${file}: header length ${hlen} exceeds the file size ${size} (truncated or not safetensors)`);
    }
    const hbuf = Buffer.alloc(hlen);
    fs.readSync(fd, hbuf, 0, hlen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(hbuf.toString('utf8'));
    } catch (e) {
      throw new Error(`${file}: header is not valid JSON (${(e as Error).message})`, { cause: e });
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) {
      throw new Error(`${file}: header is not a JSON object`);
    }
    this.dataStart = 8 + hlen;
    const dataLen = size - this.dataStart;
    const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') {
        if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
          throw new Error(`${file}: __metadata__ must be an object of strings`);
        }
        for (const [k, v] of Object.entries(raw)) {
          if (typeof v !== 'string')
            throw new Error(`${file}: __metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
          this.metadata[k] = v;
        }
        continue;
      }
      if (name === '') throw new Error(`${file}: a tensor has an empty name`);
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new Error(`${file}: tensor ${name}: entry must be an object {dtype, shape, data_offsets}`);
      }
      const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) {
        throw new Error(
          `${file}: tensor ${name} has dtype ${typeof e.dtype === 'string' ? e.dtype : JSON.stringify(e.dtype)}; supported: F32, F16, BF16`,
        );
      }
      if (!Array.isArray(e.shape)) throw new Error(`${file}: tensor ${name}: shape is missing or not a list`);
      e.shape.forEach((d, i) => {
        if (!isCount(d))
          throw new Error(`${file}: tensor ${name}: shape[${i}] = ${JSON.stringify(d)} is not an integer >= 0`);
      });
      if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
        throw new Error(`${file}: tensor ${name}: data_offsets must be a list [begin, end]`);
      }
      const [begin, end] = e.data_offsets as unknown[];
      if (!isCount(begin) || !isCount(end)) {
        throw new Error(
          `${file}: tensor ${name}: data_offsets ${JSON.stringify(e.data_offsets)} must be integers >= 0`,
        );
      }
      if (end < begin)
        throw new Error(`${file}: tensor ${name}: data_offsets [${begin}, ${end}] end before they begin`);
      const shape = e.shape as number[];
      const dtype = e.dtype as StDtype;
      const want = numel(shape) * BYTES[dtype];
      if (!Number.isSafeInteger(want)) throw new Error(`${file}: tensor ${name} [${shape}] is too large to address`);
      if (end - begin !== want) {
        throw new Error(
          `${file}: tensor ${name} [${shape}] ${dtype} needs ${want} bytes but data_offsets span ${end - begin}`,
        );
      }
      if (end > dataLen) {
        throw new Error(
          `${file}: tensor ${name} ends at byte ${end} of the data section but the file holds only ${dataLen} (truncated)`,
        );
      }
      this.entries.set(name, { dtype, shape, begin, end });
    }
    // As the format requires: the tensors tile the data section exactly (no overlap, no hole,
    // nothing after the last). A header length off by a few bytes shows up here, not as garbage.
    const sorted = [...this.entries].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
    let at = 0;
    let prev = '(start of the data section)';
    for (const [name, e] of sorted) {
      if (e.begin < at) {
        throw new Error(`${file}: tensor ${name} at bytes [${e.begin}, ${e.end}) overlaps ${prev} (ends at ${at})`);
      }
      if (e.begin > at) {
        throw new Error(`${file}: bytes [${at}, ${e.begin}) between ${prev} and tensor ${name} belong to no tensor`);
      }
      at = e.end;
      prev = `tensor ${name}`;
    }
    if (at !== dataLen) {
      throw new Error(
        `${file}: the data section has ${dataLen} bytes but the tensors cover ${at} ` +
          `(header length ${hlen} is wrong, or the file has trailing bytes)`,
      );
    }
  }

  static open(file: string): SafetensorsFile {
    const fd = fs.openSync(file, 'r');
    try {
      return new SafetensorsFile(file, fd);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Reads a tensor into dst (float32, length = numel), converting from the stored dtype. */
  readInto(name: string, dst: Float32Array): void {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.file}: no tensor named ${name}`);
    if (numel(e.shape) !== dst.length) {
      throw new Error(
        `${this.file}: tensor ${name} has shape [${e.shape}] (${numel(e.shape)} values), expected ${dst.length}`,
      );
    }
    const bytes = Buffer.alloc(e.end - e.begin);
    const got = fs.readSync(this.fd, bytes, 0, bytes.length, this.dataStart + e.begin);
    if (got !== bytes.length) throw new Error(`${this.file}: short read of tensor ${name} (truncated)`);
    decodeTensor(bytes, e.dtype, dst);
  }

  read(name: string): Float32Array {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.file}: no tensor named ${name}`);
    const out = new Float32Array(numel(e.shape));
    this.readInto(name, out);
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** All tensors of a checkpoint folder: model.safetensors, or the shards listed by model.safetensors.index.json. */
export class SafetensorsSet {
  private readonly owner = new Map<string, SafetensorsFile>();
  private constructor(private readonly files: SafetensorsFile[]) {
    for (const f of files) for (const n of f.entries.keys()) this.owner.set(n, f);
  }

  static open(dir: string, base = 'model'): SafetensorsSet {
    const single = path.join(dir, `${base}.safetensors`);
    const index = path.join(dir, `${base}.safetensors.index.json`);
    if (fs.existsSync(index)) {
      let j: { weight_map?: unknown };
      try {
        j = JSON.parse(fs.readFileSync(index, 'utf8'));
      } catch (e) {
        throw new Error(`${index}: not valid JSON (${(e as Error).message})`, { cause: e });
      }
      const wm = j?.weight_map;
      if (wm === null || typeof wm !== 'object' || Array.isArray(wm)) {
        throw new Error(`${index}: "weight_map" is missing or not an object`);
      }
      const map = wm as Record<string, unknown>;
      for (const [t, f] of Object.entries(map)) {
        if (typeof f !== 'string' || f === '' || f !== path.basename(f) || f.startsWith('.')) {
          throw new Error(`${index}: weight_map.${t} must name a shard file in the folder, got ${JSON.stringify(f)}`);
        }
      }
      const names = [...new Set(Object.values(map) as string[])];
      const files: SafetensorsFile[] = [];
      try {
        for (const n of names) {
          const p = path.join(dir, n);
          if (!fs.existsSync(p)) throw new Error(`${index}: shard ${n} does not exist`);
          files.push(SafetensorsFile.open(p));
        }
        for (const [t, f] of Object.entries(map)) {
          const sf = files[names.indexOf(f as string)];
          if (!sf.entries.has(t)) throw new Error(`${index}: tensor ${t} is mapped to ${f}, which does not contain it`);
        }
        for (const sf of files) {
          for (const t of sf.entries.keys()) {
            if (map[t] !== path.basename(sf.file)) {
              throw new Error(
                `${sf.file}: tensor ${t} is in this shard but the index maps it to ${JSON.stringify(map[t] ?? null)}`,
              );
            }
          }
        }
      } catch (e) {
        for (const f of files) f.close();
        throw e;
      }
      return new SafetensorsSet(files);
    }
    if (fs.existsSync(single)) return new SafetensorsSet([SafetensorsFile.open(single)]);
    throw new Error(`${dir}: neither ${base}.safetensors nor ${base}.safetensors.index.json exists`);
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }
  names(): string[] {
    return [...this.owner.keys()];
  }
  entry(name: string): StEntry | undefined {
    return this.owner.get(name)?.entries.get(name);
  }
  readInto(name: string, dst: Float32Array): void {
    const f = this.owner.get(name);
    if (!f) throw new Error(`checkpoint has no tensor named ${name}`);
    f.readInto(name, dst);
  }
  read(name: string): Float32Array {
    const f = this.owner.get(name);
    if (!f) throw new Error(`checkpoint has no tensor named ${name}`);
    return f.read(name);
  }
  close(): void {
    for (const f of this.files) f.close();
  }
}

/**
 * Writes tensors as `${base}.safetensors`, or, when they exceed maxShardBytes, as
 * `${base}-0000i-of-0000n.safetensors` shards plus `${base}.safetensors.index.json`.
 * Stale files of the other layout are removed so a folder never holds both.
 */
export function saveSafetensorsSet(
  dir: string,
  tensors: NamedTensor[],
  opts: { dtype?: StDtype; maxShardBytes?: number; base?: string; metadata?: Record<string, string> } = {},
): string[] {
  const dtype = opts.dtype ?? 'F32';
  const base = opts.base ?? 'model';
  const max = opts.maxShardBytes ?? Infinity;
  const shards: NamedTensor[][] = [[]];
  let cur = 0;
  let total = 0;
  for (const t of tensors) {
    const bytes = t.data.length * BYTES[dtype];
    if (cur > 0 && cur + bytes > max) {
      shards.push([]);
      cur = 0;
    }
    shards[shards.length - 1].push(t);
    cur += bytes;
    total += bytes;
  }
  fs.mkdirSync(dir, { recursive: true });
  const index = path.join(dir, `${base}.safetensors.index.json`);
  const single = path.join(dir, `${base}.safetensors`);
  for (const f of fs.readdirSync(dir)) {
    if (new RegExp(`^${base}-\\d{5}-of-\\d{5}\\.safetensors$`).test(f)) fs.rmSync(path.join(dir, f));
  }
  const metadata = { format: 'pt', ...(opts.metadata ?? {}) };
  if (shards.length === 1) {
    writeSafetensors(single, shards[0], { dtype, metadata });
    fs.rmSync(index, { force: true });
    return [single];
  }
  const n = shards.length;
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  shards.forEach((s, i) => {
    const name = `${base}-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    writeSafetensors(path.join(dir, name), s, { dtype, metadata });
    for (const t of s) weightMap[t.name] = name;
    files.push(path.join(dir, name));
  });
  writeFileAtomic(index, JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  fs.rmSync(single, { force: true });
  return files;
}
