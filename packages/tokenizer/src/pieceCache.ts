// Cache from pre-token text to its ids, keyed directly by the char codes of text[start, end): a hit
// costs a hash over a few chars and a compare, with no substring allocated (text.slice + Map.get was
// the largest cost of encode). Keys and ids live in flat typed pools; the table is cleared when full.

const MAX_SLOTS = 1 << 21;

export class PieceCache {
  private mask: number;
  private hashes: Int32Array;
  private keyOff: Int32Array;
  private keyLen: Int32Array; // 0 marks an empty slot
  private valOff: Int32Array;
  private valLen: Int32Array;
  private keys: Uint16Array;
  private vals: Int32Array;
  private keysUsed = 0;
  private valsUsed = 0;
  private size = 0;
  /** set by find(): where the ids of the hit live in `ids` */
  hitOff = 0;
  hitLen = 0;

  constructor(slots = 1 << 16) {
    this.mask = slots - 1;
    this.hashes = new Int32Array(slots);
    this.keyOff = new Int32Array(slots);
    this.keyLen = new Int32Array(slots);
    this.valOff = new Int32Array(slots);
    this.valLen = new Int32Array(slots);
    this.keys = new Uint16Array(slots * 4);
    this.vals = new Int32Array(slots * 2);
  }

  /** the ids pool; valid until the next insert */
  get ids(): Int32Array {
    return this.vals;
  }

  static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5 ^ (end - start);
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h ^ (h >>> 16);
  }

  /** Look text[start, end) up; on a hit sets hitOff/hitLen and returns true. */
  find(text: string, start: number, end: number, h: number): boolean {
    const len = end - start;
    const { mask, hashes, keyLen, keyOff, keys } = this;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const l = keyLen[s];
      if (l === 0) return false;
      if (l === len && hashes[s] === h) {
        const o = keyOff[s];
        let i = 0;
        while (i < len && keys[o + i] === text.charCodeAt(start + i)) i++;
        if (i === len) {
          this.hitOff = this.valOff[s];
          this.hitLen = this.valLen[s];
          return true;
        }
      }
    }
  }

  /** Add text[start, end) -> ids (not present yet); sets hitOff/hitLen to the new entry. */
  insert(text: string, start: number, end: number, h: number, ids: ArrayLike<number>): void {
    if ((this.size + 1) * 2 > this.mask + 1) {
      if (this.mask + 1 >= MAX_SLOTS) this.clear();
      else this.rehash((this.mask + 1) * 2);
    }
    const len = end - start;
    if (this.keysUsed + len > this.keys.length) this.keys = grow16(this.keys, this.keysUsed + len);
    if (this.valsUsed + ids.length > this.vals.length) this.vals = grow32(this.vals, this.valsUsed + ids.length);
    let s = h & this.mask;
    while (this.keyLen[s] !== 0) s = (s + 1) & this.mask;
    this.hashes[s] = h;
    this.keyOff[s] = this.keysUsed;
    this.keyLen[s] = len;
    this.valOff[s] = this.valsUsed;
    this.valLen[s] = ids.length;
    for (let i = 0; i < len; i++) this.keys[this.keysUsed + i] = text.charCodeAt(start + i);
    for (let i = 0; i < ids.length; i++) this.vals[this.valsUsed + i] = ids[i];
    this.hitOff = this.valsUsed;
    this.hitLen = ids.length;
    this.keysUsed += len;
    this.valsUsed += ids.length;
    this.size++;
  }

  clear(): void {
    this.keyLen.fill(0);
    this.keysUsed = 0;
    this.valsUsed = 0;
    this.size = 0;
  }

  private rehash(slots: number): void {
    const { hashes, keyOff, keyLen, valOff, valLen } = this;
    this.mask = slots - 1;
    this.hashes = new Int32Array(slots);
    this.keyOff = new Int32Array(slots);
    this.keyLen = new Int32Array(slots);
    this.valOff = new Int32Array(slots);
    this.valLen = new Int32Array(slots);
    for (let t = 0; t < keyLen.length; t++) {
      if (keyLen[t] === 0) continue;
      let s = hashes[t] & this.mask;
      while (this.keyLen[s] !== 0) s = (s + 1) & this.mask;
      this.hashes[s] = hashes[t];
      this.keyOff[s] = keyOff[t];
      this.keyLen[s] = keyLen[t];
      this.valOff[s] = valOff[t];
      this.valLen[s] = valLen[t];
    }
  }
}

function grow16(a: Uint16Array, need: number): Uint16Array {
  const b = new Uint16Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

function grow32(a: Int32Array, need: number): Int32Array {
  const b = new Int32Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}
