/**
 * A growable byte buffer that records are written into directly. Building a page as JavaScript
 * strings and encoding it costs more than everything else together (V8 flattens every concatenation
 * rope), so ids, timestamps and numbers are written digit by digit and constant segments are copied.
 * Everything written is ASCII.
 */

// Module-level bindings: global lookups are slow inside test-runner VM contexts (jest).
const { floor } = Math;

export const HEX = Uint8Array.from({ length: 16 }, (_, i) => '0123456789abcdef'.charCodeAt(i));
const B36 = Array.from({ length: 36 }, (_, i) =>
  '0123456789abcdefghijklmnopqrstuvwxyz'.charCodeAt(i),
);
const DIGITS2 = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGITS2[2 * i] = 48 + floor(i / 10);
  DIGITS2[2 * i + 1] = 48 + (i % 10);
}

export class ByteWriter {
  buf: Buffer;
  off = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  reset(): void {
    this.off = 0;
  }

  ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.off++] = c;
  }

  /** Pre-encoded bytes (segments). */
  bytes(b: Buffer): void {
    const n = b.length;
    this.ensure(n);
    if (n < 16) {
      const buf = this.buf;
      let o = this.off;
      for (let i = 0; i < n; i++) buf[o++] = b[i];
      this.off = o;
    } else {
      // TypedArray#set is a plain memcpy (Buffer#copy checks its arguments first).
      this.buf.set(b, this.off);
      this.off += n;
    }
  }

  /** An ASCII string. */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    if (n < 32) {
      const buf = this.buf;
      let o = this.off;
      for (let i = 0; i < n; i++) buf[o++] = s.charCodeAt(i);
      this.off = o;
    } else {
      this.off += this.buf.write(s, this.off, 'latin1');
    }
  }

  /** A non-negative integer below 2^53. */
  uint(n: number): void {
    this.ensure(16);
    if (n < 10) {
      this.buf[this.off++] = 48 + n;
      return;
    }
    const buf = this.buf;
    if (n < 2147483648) {
      // Small integers: int32 arithmetic is several times faster than floor() on doubles.
      let len = 1;
      for (let m = (n / 10) | 0; m > 0; m = (m / 10) | 0) len++;
      let o = this.off + len;
      for (let m = n; m > 0;) {
        const q = (m / 10) | 0;
        buf[--o] = 48 + m - q * 10;
        m = q;
      }
      this.off += len;
      return;
    }
    let len = 0;
    for (let m = n; m >= 1; m = floor(m / 10)) len++;
    let o = this.off + len;
    for (let m = n; m >= 1; m = floor(m / 10)) buf[--o] = 48 + (m % 10);
    this.off += len;
  }

  /** `d` decimal digits of n, zero-padded (n < 10^d < 2^31). */
  padded(n: number, d: number): void {
    const buf = this.buf;
    let o = this.off + d;
    for (let i = 0; i < d; i++) {
      const q = (n / 10) | 0;
      buf[--o] = 48 + n - q * 10;
      n = q;
    }
    this.off += d;
  }

  /** A decimal number from integer millionths: 12.345678. */
  micros(n: number): void {
    const whole = floor(n / 1e6);
    this.uint(whole);
    this.ensure(7);
    this.buf[this.off++] = 46;
    this.padded(n - whole * 1e6, 6);
  }

  /** A non-negative integer in base 36 (lowercase), as Number#toString(36) writes it. */
  base36(n: number): void {
    this.ensure(12);
    const buf = this.buf;
    let len = 0;
    for (let m = n; m >= 1 || len === 0; m = floor(m / 36)) len++;
    let o = this.off + len;
    let m = n;
    for (let i = 0; i < len; i++) {
      buf[--o] = B36[m % 36];
      m = floor(m / 36);
    }
    this.off += len;
  }

  /** Two digits (0..99). */
  two(n: number): void {
    this.buf[this.off++] = DIGITS2[2 * n];
    this.buf[this.off++] = DIGITS2[2 * n + 1];
  }

  /** `count` lowercase hex digits of the low bits of v (v < 2^32), at the write position (no ensure). */
  hex(v: number, count: number): void {
    const buf = this.buf;
    let o = this.off + count;
    for (let i = 0; i < count; i++) {
      buf[--o] = HEX[v & 15];
      v >>>= 4;
    }
    this.off += count;
  }

  toString(start = 0): string {
    return this.buf.toString('latin1', start, this.off);
  }
}

const dayPrefixes = new Map<number, Buffer>();

/** Writes `2025-05-01T11:16:39.421992+00:00` from integer microseconds. */
export function writeIso(w: ByteWriter, us: number): void {
  const sec = floor(us / 1e6);
  let micro = us - sec * 1e6;
  const day = floor(sec / 86400);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = Buffer.from(new Date(day * 86400000).toISOString().slice(0, 11), 'latin1');
    dayPrefixes.set(day, prefix);
  }
  w.ensure(32);
  const buf = w.buf;
  let o = w.off;
  for (let i = 0; i < 11; i++) buf[o++] = prefix[i];
  let sod = sec - day * 86400;
  const h = (sod / 3600) | 0;
  sod -= h * 3600;
  const m = (sod / 60) | 0;
  const s = sod - m * 60;
  buf[o++] = DIGITS2[2 * h];
  buf[o++] = DIGITS2[2 * h + 1];
  buf[o++] = 58;
  buf[o++] = DIGITS2[2 * m];
  buf[o++] = DIGITS2[2 * m + 1];
  buf[o++] = 58;
  buf[o++] = DIGITS2[2 * s];
  buf[o++] = DIGITS2[2 * s + 1];
  buf[o++] = 46;
  for (let i = 5; i >= 0; i--) {
    const q = (micro / 10) | 0;
    buf[o + i] = 48 + micro - q * 10;
    micro = q;
  }
  o += 6;
  buf[o++] = 43; // +00:00
  buf[o++] = 48;
  buf[o++] = 48;
  buf[o++] = 58;
  buf[o++] = 48;
  buf[o++] = 48;
  w.off = o;
}

export function isoUs(us: number): string {
  const w = new ByteWriter(40);
  writeIso(w, us);
  return w.toString();
}
