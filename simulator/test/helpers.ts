/** Shared helpers for simulator tests: a tiny fetch wrapper that never logs the key. */
export const KEY = 'simulator-key';

export interface Page<T = Record<string, unknown>> {
  page: number;
  pageSize: number;
  total: number;
  results: T[];
}

export interface Got {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function get(
  url: string,
  params: Record<string, string | number | boolean> = {},
  headers: Record<string, string> = { Authorization: `Bearer ${KEY}` },
): Promise<Got> {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  const res = await fetch(u, { headers });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function page(
  baseUrl: string,
  path: string,
  params: Record<string, string | number | boolean> = {},
): Promise<Page> {
  const r = await get(baseUrl + path, params);
  if (r.status !== 200) throw new Error(`GET ${path} -> ${r.status}: ${r.text.slice(0, 500)}`);
  return r.json as Page;
}

/** Read every page of a window. */
export async function readAll(
  baseUrl: string,
  path: string,
  params: Record<string, string | number | boolean> = {},
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let p = 1; ; p++) {
    const pg = await page(baseUrl, path, { page_size: 100, ...params, page: p });
    out.push(...pg.results);
    if (pg.results.length < pg.pageSize || p * pg.pageSize >= pg.total) return out;
  }
}

export function iso(d: Date): string {
  return d.toISOString();
}

export const DAY = 86400000;
export const HOUR = 3600000;

/** Microseconds since the epoch of an API timestamp (`2025-05-01T11:16:39.421992+00:00`) or any ISO string. */
export function toUs(iso: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) throw new Error(`not an ISO timestamp: ${iso}`);
  const frac = ((m[2] ?? '') + '000000').slice(0, 6);
  return Date.parse(m[1] + m[3]) * 1000 + Number(frac);
}

export type Rec = Record<string, unknown>;

export function ids(rows: Rec[]): string[] {
  return rows.map((r) => r.id as string).sort();
}
