/**
 * Parsing of query parameters the way FastAPI/pydantic does it, collecting FastAPI-shaped validation
 * issues (`{"loc": ["query", <param>], "msg", "type", "input"}`).
 */

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

export const UUID_RE =
  /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DT_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

/** Parse an ISO 8601 date-time (or date, or unix seconds, as pydantic accepts) into µs. */
export function parseDateTime(raw: string): number | undefined {
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return Math.round((n > 2e10 ? n / 1000 : n) * 1e6);
  }
  const d = DATE_RE.exec(s);
  if (d) {
    const ms = Date.UTC(+d[1], +d[2] - 1, +d[3]);
    return Number.isNaN(ms) || new Date(ms).getUTCDate() !== +d[3] ? undefined : ms * 1000;
  }
  const m = DT_RE.exec(s);
  if (!m) return undefined;
  const [, y, mo, da, h, mi, se, frac, tz] = m;
  if (+mo < 1 || +mo > 12 || +h > 23 || +mi > 59 || +(se ?? 0) > 59) return undefined;
  const ms = Date.UTC(+y, +mo - 1, +da, +h, +mi, +(se ?? 0));
  if (Number.isNaN(ms) || new Date(ms).getUTCDate() !== +da) return undefined;
  let offsetMin = 0;
  if (tz && tz.toUpperCase() !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const oh = +digits.slice(0, 2);
    const om = +digits.slice(2, 4);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = sign * (oh * 60 + om);
  }
  const micros = frac ? Math.floor(+(frac + '000000').slice(0, 6)) : 0;
  return (ms - offsetMin * 60000) * 1000 + micros;
}

export class Issues {
  list: ValidationIssue[] = [];
  add(
    param: string,
    type: string,
    msg: string,
    input: unknown,
    ctx?: Record<string, unknown>,
  ): void {
    const issue: ValidationIssue = { type, loc: ['query', param], msg, input };
    if (ctx) issue.ctx = ctx;
    this.list.push(issue);
  }
}

/** FastAPI takes the last occurrence of a repeated scalar parameter. */
export function last(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  return all.length ? all[all.length - 1] : undefined;
}

export function parseInt0(
  params: URLSearchParams,
  name: string,
  def: number,
  min: number,
  max: number,
  issues: Issues,
): number {
  const raw = last(params, name);
  if (raw === undefined) return def;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) {
    issues.add(
      name,
      'int_parsing',
      'Input should be a valid integer, unable to parse string as an integer',
      raw,
    );
    return def;
  }
  const n = parseInt(raw, 10);
  if (n < min) {
    issues.add(name, 'greater_than_equal', `Input should be greater than or equal to ${min}`, raw, {
      ge: min,
    });
  } else if (n > max) {
    issues.add(name, 'less_than_equal', `Input should be less than or equal to ${max}`, raw, {
      le: max,
    });
  }
  return n;
}

export function commaList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.length ? items : undefined;
}

export function uuidList(
  params: URLSearchParams,
  name: string,
  issues: Issues,
): string[] | undefined {
  const items = commaList(last(params, name));
  if (!items) return undefined;
  for (const it of items) {
    if (!UUID_RE.test(it)) {
      issues.add(
        name,
        'uuid_parsing',
        `Input should be a valid UUID, invalid value "${it}" in a comma-separated list of UUIDs`,
        it,
      );
      return undefined;
    }
  }
  return items.map((s) => s.toLowerCase());
}
