/** Growable typed-array columns: a million records cost tens of megabytes, not hundreds. */

export class F64Col {
  data = new Float64Array(1024);
  push(v: number, i: number): void {
    if (i >= this.data.length) {
      const n = new Float64Array(this.data.length * 2);
      n.set(this.data);
      this.data = n;
    }
    this.data[i] = v;
  }
}

export class U32Col {
  data = new Uint32Array(1024);
  push(v: number, i: number): void {
    if (i >= this.data.length) {
      const n = new Uint32Array(this.data.length * 2);
      n.set(this.data);
      this.data = n;
    }
    this.data[i] = v;
  }
}

/** Merge two index lists, each sorted by key[index], into one sorted list. */
export function mergeSorted(a: Uint32Array, b: Uint32Array, key: Float64Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < a.length && j < b.length) {
    if (key[b[j]] < key[a[i]]) out[o++] = b[j++];
    else out[o++] = a[i++];
  }
  while (i < a.length) out[o++] = a[i++];
  while (j < b.length) out[o++] = b[j++];
  return out;
}

/** First position in `order` whose key is >= value (order sorted ascending by key). */
export function lowerBound(
  order: Uint32Array,
  len: number,
  key: Float64Array,
  value: number,
): number {
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key[order[mid]] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position in `order` whose key is > value. */
export function upperBound(
  order: Uint32Array,
  len: number,
  key: Float64Array,
  value: number,
): number {
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key[order[mid]] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
