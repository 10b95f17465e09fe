/**
 * Deterministic randomness. Every value in the simulated world is derived from (seed, a few integers),
 * so the same record is identical whichever order it is generated or requested in.
 */

import { HEX as HEXB } from './bytes';
import type { ByteWriter } from './bytes';

// Module-level bindings: global lookups are slow inside test-runner VM contexts (jest).
const { cos, exp, floor, imul, log, max, sqrt } = Math;

/** 32-bit avalanche mix (murmur3 finaliser). */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash any number of integers (each may exceed 32 bits; up to 2^53) into 32 bits. */
export function hash(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    const lo = p >>> 0;
    const hi = floor(p / 4294967296) >>> 0;
    h = mix32(h ^ lo) + 0x632be5ab;
    h = mix32(h ^ hi) + 0x1b873593;
  }
  return mix32(h);
}

/** Hash a string into 32 bits (FNV-1a then mixed). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = imul(h, 0x01000193);
  }
  return mix32(h);
}

/** hash(a, b, c) without the rest-parameter array: the serializers call it per record. */
export function hash3(a: number, b: number, c: number): number {
  let h = 0x9e3779b9;
  h = mix32(h ^ (a >>> 0)) + 0x632be5ab;
  h = mix32(h ^ (floor(a / 4294967296) >>> 0)) + 0x1b873593;
  h = mix32(h ^ (b >>> 0)) + 0x632be5ab;
  h = mix32(h ^ (floor(b / 4294967296) >>> 0)) + 0x1b873593;
  h = mix32(h ^ (c >>> 0)) + 0x632be5ab;
  return mix32(h);
}

/** A cheap generator (mulberry32) for per-record values: no warm-up, one hash to seed. */
export class QuickRng {
  private s: number;
  constructor(a: number, b: number, c: number) {
    this.s = hash3(a, b, c);
  }
  /** Start over from a new seed (saves an allocation per record). */
  reseed(a: number, b: number, c: number): this {
    this.s = hash3(a, b, c);
    return this;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + floor(this.next() * (hi - lo + 1));
  }
  range(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Small fast PRNG (sfc32) seeded from a hash of integers. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...parts: number[]) {
    this.a = hash(...parts, 1);
    this.b = hash(...parts, 2);
    this.c = hash(...parts, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + floor(this.next() * (hi - lo + 1));
  }

  range(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[floor(this.next() * items.length)];
  }

  /** Log-normal around a median, as durations of real jobs are. */
  logNormal(median: number, sigma: number): number {
    const u1 = max(this.next(), 1e-12);
    const u2 = this.next();
    const z = sqrt(-2 * log(u1)) * cos(2 * Math.PI * u2);
    return median * exp(sigma * z);
  }
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

function hex32(n: number): string {
  return HEX[(n >>> 24) & 255] + HEX[(n >>> 16) & 255] + HEX[(n >>> 8) & 255] + HEX[n & 255];
}

const M26 = 0x3ffffff;
const TWO26 = 67108864;

/**
 * A keyed, invertible permutation of 52-bit integers (4-round Feistel on 26-bit halves). It lets a UUID
 * carry the record's structural key (pipeline, run, task, attempt) so an id filter finds the record
 * without an index, while the ids still look random.
 */
const roundKeyCache = new Map<number, number[]>();

function roundKeys(key: number): number[] {
  let rk = roundKeyCache.get(key);
  if (!rk) {
    rk = [0, 1, 2, 3].map((i) => hash(key, i));
    roundKeyCache.set(key, rk);
  }
  return rk;
}

function feistel(value: number, key: number, inverse: boolean): number {
  let l = floor(value / TWO26) & M26;
  let r = (value % TWO26) & M26;
  const rk = roundKeys(key);
  if (inverse) {
    for (let i = 3; i >= 0; i--) {
      const prevR = l;
      l = (r ^ mix32(prevR ^ rk[i])) & M26;
      r = prevR;
    }
  } else {
    for (let i = 0; i < 4; i++) {
      const nl = r;
      r = (l ^ mix32(r ^ rk[i])) & M26;
      l = nl;
    }
  }
  return l * TWO26 + r;
}

const kindKeyCache = new Map<number, number>();

function kindKey(seed: number, kind: number): number {
  const k = seed * 16 + kind;
  let v = kindKeyCache.get(k);
  if (v === undefined) {
    v = hash(seed, kind);
    kindKeyCache.set(k, v);
  }
  return v;
}

const HEX1 = '0123456789abcdef'.split('');
const HEX3: string[] = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));
const HEX4: string[] = Array.from({ length: 65536 }, (_, i) => i.toString(16).padStart(4, '0'));

/** A UUID version 4 string that encodes (kind, key); key < 2^52. */
export function encodeUuid(seed: number, kind: number, key: number): string {
  const fk = kindKey(seed, kind);
  const p = feistel(key, fk, false);
  const h1 = hash3(fk, key, 11);
  const h2 = hash3(fk, key, 12);
  const top = floor(p / 281474976710656) & 15; // the 4 bits above 48
  const low48 = p % 281474976710656;
  const g5hi = floor(low48 / 4294967296);
  const g5lo = low48 % 4294967296;
  return (
    HEX4[h1 >>> 16] +
    HEX4[h1 & 0xffff] +
    '-' +
    HEX4[h2 >>> 16] +
    '-4' +
    HEX3[(h2 >>> 4) & 0xfff] +
    '-' +
    HEX1[8 | (h2 & 3)] +
    HEX[(h1 ^ h2) & 255] +
    HEX1[top] +
    '-' +
    HEX4[g5hi] +
    HEX4[g5lo >>> 16] +
    HEX4[g5lo & 0xffff]
  );
}

/** The key encoded by encodeUuid, or undefined when the UUID was not issued for this kind and seed. */
export function decodeUuid(seed: number, kind: number, uuid: string): number | undefined {
  const u = uuid.toLowerCase();
  if (u.length !== 36) return undefined;
  const top = parseInt(u.charAt(22), 16);
  const g5 = parseInt(u.slice(24), 16);
  if (!Number.isFinite(top) || !Number.isFinite(g5)) return undefined;
  const p = top * 2 ** 48 + g5;
  const key = feistel(p, kindKey(seed, kind), true);
  return encodeUuid(seed, kind, key) === u ? key : undefined;
}

/** A random-looking UUID v4 for things that are never looked up (users, connections...). */
export function plainUuid(...parts: number[]): string {
  const a = hash(...parts, 21);
  const b = hash(...parts, 22);
  const c = hash(...parts, 23);
  const d = hash(...parts, 24);
  const bh = hex32(b);
  const ch = hex32(c);
  return (
    hex32(a) +
    '-' +
    bh.slice(0, 4) +
    '-4' +
    bh.slice(5, 8) +
    '-' +
    (8 | (c & 3)).toString(16) +
    ch.slice(1, 4) +
    '-' +
    ch.slice(4, 8) +
    hex32(d)
  );
}

/** Ids of one kind for one seed: the keyed permutation's constants computed once (hot path). */
export class UuidKind {
  private readonly fk: number;
  private readonly rk: number[];

  constructor(seed: number, kind: number) {
    this.fk = kindKey(seed, kind);
    this.rk = roundKeys(this.fk);
  }

  /** Same bytes as encodeUuid(seed, kind, key). */
  write(w: ByteWriter, key: number): void {
    const rk = this.rk;
    let l = floor(key / TWO26) & M26;
    let r = (key % TWO26) & M26;
    for (let i = 0; i < 4; i++) {
      const nl = r;
      r = (l ^ mix32(r ^ rk[i])) & M26;
      l = nl;
    }
    // p = l * 2^26 + r; the top 4 of its 52 bits, then 16 and 32 bits, without float division.
    const top = (l >>> 22) & 15;
    const low = l & 0x3fffff;
    const g5hi = low >>> 6;
    const g5lo = ((low & 63) * 67108864 + r) >>> 0;
    const h1 = hash3(this.fk, key, 11);
    const h2 = hash3(this.fk, key, 12);
    w.ensure(36);
    const buf = w.buf;
    const o = w.off;
    for (let i = 7; i >= 0; i--) buf[o + 7 - i] = HEXB[(h1 >>> (4 * i)) & 15];
    buf[o + 8] = 45;
    for (let i = 3; i >= 0; i--) buf[o + 12 - i] = HEXB[(h2 >>> (16 + 4 * i)) & 15];
    buf[o + 13] = 45;
    buf[o + 14] = 52;
    for (let i = 2; i >= 0; i--) buf[o + 17 - i] = HEXB[(h2 >>> (4 + 4 * i)) & 15];
    buf[o + 18] = 45;
    buf[o + 19] = HEXB[8 | (h2 & 3)];
    buf[o + 20] = HEXB[((h1 ^ h2) >>> 4) & 15];
    buf[o + 21] = HEXB[(h1 ^ h2) & 15];
    buf[o + 22] = HEXB[top];
    buf[o + 23] = 45;
    for (let i = 3; i >= 0; i--) buf[o + 27 - i] = HEXB[(g5hi >>> (4 * i)) & 15];
    for (let i = 7; i >= 0; i--) buf[o + 35 - i] = HEXB[(g5lo >>> (4 * i)) & 15];
    w.off = o + 36;
  }
}
