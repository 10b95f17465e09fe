/**
 * Per-window bookkeeping without per-record heap objects: an open-addressing hash table of 52-bit
 * string hashes in typed arrays. A window's ids (a few thousand to tens of thousands) would
 * otherwise live just long enough to be promoted to V8's old generation and inflate the heap.
 * Two different ids share a hash with odds around n^2 / 2^53: negligible at these sizes.
 */

/** A 52-bit hash of a string (two 32-bit FNV-1a variants), never 0 (0 marks an empty slot). */
export function hash52(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  const h = (a >>> 0) * 0x100000 + ((b >>> 0) >>> 12);
  return h === 0 ? 1 : h;
}

export class HashTable {
  private keys: Float64Array;
  private values: Float64Array;
  private extra: Float64Array;
  private mask: number;
  size = 0;

  constructor(expected = 256) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.extra = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  /** Slot of `key`, or of the empty slot where it would go. */
  private slot(key: number): number {
    let i = (key % (this.mask + 1)) | 0;
    for (;;) {
      const k = this.keys[i];
      if (k === 0 || k === key) return i;
      i = (i + 1) & this.mask;
    }
  }

  has(key: number): boolean {
    return this.keys[this.slot(key)] === key;
  }

  /** Adds the key; true when it was not there before. */
  add(key: number, value = 0, extra = 0): boolean {
    const i = this.slot(key);
    const isNew = this.keys[i] !== key;
    this.keys[i] = key;
    this.values[i] = value;
    this.extra[i] = extra;
    if (isNew && ++this.size * 2 > this.mask) this.grow();
    return isNew;
  }

  /** The value and extra stored with `key`, or undefined. */
  get(key: number): [number, number] | undefined {
    const i = this.slot(key);
    return this.keys[i] === key ? [this.values[i], this.extra[i]] : undefined;
  }

  /** Whether both tables hold exactly the same keys. */
  sameKeys(other: HashTable): boolean {
    if (other.size !== this.size) return false;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== 0 && !other.has(this.keys[i])) return false;
    }
    return true;
  }

  private grow(): void {
    const { keys, values, extra } = this;
    const capacity = (this.mask + 1) * 2;
    this.keys = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.extra = new Float64Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue;
      const j = this.slot(keys[i]);
      this.keys[j] = keys[i];
      this.values[j] = values[i];
      this.extra[j] = extra[i];
    }
  }
}
