// Open-addressing hash table from a pair of token ids (left, right) to (priority, merged id), in
// flat Int32Arrays: the BPE inner loop looks up every adjacent pair, and a Map keyed by a packed
// 34-bit number would hash heap doubles and allocate.

export const NO_PAIR = 0x7fffffff;

export class PairTable {
  private mask: number;
  private left: Int32Array;
  private right: Int32Array;
  /** priority of the pair (lower merges first); merged id of the pair; both indexed by slot */
  prio: Int32Array;
  merged: Int32Array;
  size = 0;

  constructor(expected: number) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.mask = cap - 1;
    this.left = new Int32Array(cap).fill(-1);
    this.right = new Int32Array(cap);
    this.prio = new Int32Array(cap);
    this.merged = new Int32Array(cap);
  }

  private static hash(l: number, r: number): number {
    let h = Math.imul(l, 0x9e3779b1) ^ Math.imul(r + 0x7f4a7c15, 0x85ebca6b);
    h ^= h >>> 15;
    return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 13);
  }

  /** Slot holding (l, r), or -1. */
  find(l: number, r: number): number {
    const mask = this.mask;
    const left = this.left;
    let s = PairTable.hash(l, r) & mask;
    for (;;) {
      const k = left[s];
      if (k === l && this.right[s] === r) return s;
      if (k === -1) return -1;
      s = (s + 1) & mask;
    }
  }

  /** Insert (l, r) -> (prio, merged); when the pair is already there the lower priority wins. */
  set(l: number, r: number, prio: number, merged: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const mask = this.mask;
    let s = PairTable.hash(l, r) & mask;
    for (;;) {
      const k = this.left[s];
      if (k === -1) {
        this.left[s] = l;
        this.right[s] = r;
        this.prio[s] = prio;
        this.merged[s] = merged;
        this.size++;
        return;
      }
      if (k === l && this.right[s] === r) {
        if (prio < this.prio[s]) {
          this.prio[s] = prio;
          this.merged[s] = merged;
        }
        return;
      }
      s = (s + 1) & mask;
    }
  }

  private grow(): void {
    const { left, right, prio, merged } = this;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.left = new Int32Array(cap).fill(-1);
    this.right = new Int32Array(cap);
    this.prio = new Int32Array(cap);
    this.merged = new Int32Array(cap);
    this.size = 0;
    for (let s = 0; s < left.length; s++) if (left[s] !== -1) this.set(left[s], right[s], prio[s], merged[s]);
  }

  /** Visit every entry. */
  forEach(fn: (l: number, r: number, prio: number, merged: number) => void): void {
    for (let s = 0; s < this.left.length; s++)
      if (this.left[s] !== -1) fn(this.left[s], this.right[s], this.prio[s], this.merged[s]);
  }
}
