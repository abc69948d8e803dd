// The byte-level BPE model: token bytes, the pair table and the merge loop over small int arrays.
// Merge order is "lowest priority first, leftmost first among equals", which is both tiktoken's
// rule (priority = rank of the merged token) and Hugging Face's (priority = merge index).
import { bytesKey } from './byteLevel';
import { NO_PAIR, PairTable } from './pairTable';

/** Above this many bytes a piece is merged with a heap (O(n log n)) instead of the quadratic scan. */
const LONG_PIECE = 128;

export interface Merge {
  left: number;
  right: number;
  merged: number;
  priority: number;
}

export class BpeModel {
  /** bytes of each ordinary token by id (undefined where the id is a special token or unused) */
  readonly tokenBytes: (Uint8Array | undefined)[];
  readonly byteToId: Int32Array;
  readonly bytesToId: Map<string, number>;
  readonly pairs: PairTable;
  /** Hugging Face's ignore_merges / tiktoken's rule: a piece that is itself a token is emitted whole. */
  readonly ignoreMerges: boolean;
  private p = new Int32Array(LONG_PIECE);
  private r = new Int32Array(LONG_PIECE);
  private m = new Int32Array(LONG_PIECE);

  constructor(tokenBytes: (Uint8Array | undefined)[], merges: Merge[], ignoreMerges: boolean) {
    this.tokenBytes = tokenBytes;
    this.ignoreMerges = ignoreMerges;
    this.bytesToId = new Map();
    for (let id = 0; id < tokenBytes.length; id++) {
      const b = tokenBytes[id];
      if (b !== undefined && !this.bytesToId.has(bytesKey(b))) this.bytesToId.set(bytesKey(b), id);
    }
    this.byteToId = new Int32Array(256).fill(-1);
    for (let byte = 0; byte < 256; byte++) {
      const id = this.bytesToId.get(String.fromCharCode(byte));
      if (id === undefined) throw new Error(`vocabulary has no token for byte 0x${byte.toString(16).padStart(2, '0')}`);
      this.byteToId[byte] = id;
    }
    this.pairs = new PairTable(merges.length);
    for (const mg of merges) this.pairs.set(mg.left, mg.right, mg.priority, mg.merged);
  }

  /** The merges in priority order (for export). */
  merges(): Merge[] {
    const out: Merge[] = [];
    this.pairs.forEach((left, right, priority, merged) => out.push({ left, right, priority, merged }));
    return out.sort((a, b) => a.priority - b.priority || a.left - b.left || a.right - b.right);
  }

  /** Encode the bytes buf[0, n) of one pre-token; returns the ids. */
  encodeBytes(buf: Uint8Array, n: number): number[] {
    if (n === 1) return [this.byteToId[buf[0]]];
    if (this.ignoreMerges) {
      const whole = this.bytesToId.get(bytesKey(buf, 0, n));
      if (whole !== undefined) return [whole];
    }
    return n <= LONG_PIECE ? this.mergeShort(buf, n) : this.mergeLong(buf, n);
  }

  private mergeShort(buf: Uint8Array, n: number): number[] {
    const { p, r, m, pairs, byteToId } = this;
    const prio = pairs.prio;
    const merged = pairs.merged;
    for (let i = 0; i < n; i++) p[i] = byteToId[buf[i]];
    for (let i = 0; i + 1 < n; i++) {
      const s = pairs.find(p[i], p[i + 1]);
      r[i] = s < 0 ? NO_PAIR : prio[s];
      m[i] = s < 0 ? -1 : merged[s];
    }
    while (n > 1) {
      let best = NO_PAIR;
      let bi = -1;
      for (let i = 0; i + 1 < n; i++) {
        if (r[i] < best) {
          best = r[i];
          bi = i;
        }
      }
      if (bi < 0) break;
      p[bi] = m[bi];
      for (let i = bi + 1; i + 1 < n; i++) p[i] = p[i + 1];
      for (let i = bi + 1; i + 2 < n; i++) {
        r[i] = r[i + 1];
        m[i] = m[i + 1];
      }
      n--;
      if (bi + 1 < n) {
        const s = pairs.find(p[bi], p[bi + 1]);
        r[bi] = s < 0 ? NO_PAIR : prio[s];
        m[bi] = s < 0 ? -1 : merged[s];
      }
      if (bi > 0) {
        const s = pairs.find(p[bi - 1], p[bi]);
        r[bi - 1] = s < 0 ? NO_PAIR : prio[s];
        m[bi - 1] = s < 0 ? -1 : merged[s];
      }
    }
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = p[i];
    return out;
  }

  /** Linked list of parts + binary heap of candidate pairs ordered by (priority, position). */
  private mergeLong(buf: Uint8Array, n: number): number[] {
    const { pairs, byteToId } = this;
    const tok = new Int32Array(n);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      tok[i] = byteToId[buf[i]];
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const cap = 3 * n + 4;
    const hp = new Int32Array(cap); // priority
    const hi = new Int32Array(cap); // left position
    const hl = new Int32Array(cap); // left id when pushed
    const hr = new Int32Array(cap); // right id when pushed
    const hm = new Int32Array(cap); // merged id
    let size = 0;
    const less = (a: number, b: number) => hp[a] < hp[b] || (hp[a] === hp[b] && hi[a] < hi[b]);
    const swap = (a: number, b: number) => {
      let t = hp[a];
      hp[a] = hp[b];
      hp[b] = t;
      t = hi[a];
      hi[a] = hi[b];
      hi[b] = t;
      t = hl[a];
      hl[a] = hl[b];
      hl[b] = t;
      t = hr[a];
      hr[a] = hr[b];
      hr[b] = t;
      t = hm[a];
      hm[a] = hm[b];
      hm[b] = t;
    };
    const push = (i: number) => {
      const j = next[i];
      if (j < 0) return;
      const s = pairs.find(tok[i], tok[j]);
      if (s < 0) return;
      let k = size++;
      hp[k] = pairs.prio[s];
      hi[k] = i;
      hl[k] = tok[i];
      hr[k] = tok[j];
      hm[k] = pairs.merged[s];
      while (k > 0) {
        const parent = (k - 1) >> 1;
        if (!less(k, parent)) break;
        swap(k, parent);
        k = parent;
      }
    };
    const pop = () => {
      size--;
      swap(0, size);
      let k = 0;
      for (;;) {
        const a = 2 * k + 1;
        const b = a + 1;
        let s = k;
        if (a < size && less(a, s)) s = a;
        if (b < size && less(b, s)) s = b;
        if (s === k) break;
        swap(k, s);
        k = s;
      }
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    while (size > 0) {
      const i = hi[0];
      const l = hl[0];
      const r = hr[0];
      const z = hm[0];
      pop();
      const j = next[i];
      if (tok[i] !== l || j < 0 || tok[j] !== r) continue; // stale
      tok[i] = z;
      tok[j] = -1;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) push(prev[i]);
      push(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(tok[i]);
    return out;
  }
}
