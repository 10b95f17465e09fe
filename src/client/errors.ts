import { ConfigError, SystemError, TransientError } from '../errors';

/** What a request was for, so every error names the endpoint and page. */
export interface RequestContext {
  path: string;
  page?: number;
  /** Free text, e.g. the time window or "re-fetch of 50 open runs". */
  detail?: string;
}

export function describeRequest(ctx: RequestContext): string {
  const page = ctx.page !== undefined ? ` page ${ctx.page}` : '';
  const detail = ctx.detail ? ` (${ctx.detail})` : '';
  return `GET ${ctx.path}${page}${detail}`;
}

export const DEFAULT_API_URL = 'https://app.getorchestra.io/api/engine/public';

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** FastAPI error bodies: {"detail": "..."} or {"detail": [{"loc": [...], "msg": "..."}]}. */
export function apiDetail(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { detail?: unknown };
    const detail = parsed?.detail;
    if (typeof detail === 'string') return detail.slice(0, 300);
    if (Array.isArray(detail)) {
      return detail
        .map((d: { loc?: unknown[]; msg?: string }) => {
          const loc = Array.isArray(d.loc) ? d.loc.filter((p) => p !== 'query').join('.') : '';
          return loc ? `${loc}: ${d.msg ?? 'invalid'}` : (d.msg ?? 'invalid');
        })
        .join('; ')
        .slice(0, 300);
    }
  } catch {
    // Not JSON: the caller reports the status alone.
  }
  return undefined;
}

/** The error for a final (non-retried or retries exhausted) HTTP status. */
export function httpStatusError(
  status: number,
  body: string,
  ctx: RequestContext,
  baseUrl: string,
  attempts: number,
): Error {
  const what = describeRequest(ctx);
  const detail = apiDetail(body);
  const said = detail ? `: "${detail}"` : '';
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  switch (status) {
    case 400:
      return new ConfigError(
        `Orchestra rejected ${what} as a bad request (400)${said}. If your token covers several ` +
          'accounts, set `account_id`; otherwise check the `pipeline_ids` and `environments` values.',
      );
    case 401:
      return new ConfigError(
        'Orchestra rejected the API key (401): create a key under Settings > API key in Orchestra ' +
          'and update `api_key`.',
      );
    case 403:
      return new ConfigError(
        `Orchestra refused access (403)${said}: the metadata API needs an enterprise workspace, ` +
          "and the workspace's IP allow-list must include this machine. Ask your Orchestra admin.",
      );
    case 404:
      return new ConfigError(
        `Orchestra answered 404 Not Found for ${what} at ${baseUrl}: check \`api_url\` ` +
          `(normally ${DEFAULT_API_URL}).`,
      );
    case 422:
      return new ConfigError(
        `Orchestra rejected the parameters of ${what} (422)${said}: check \`page_size\` (1-100) ` +
          'and the filters in the config.',
      );
    // Retries ran out (or the server asked for a longer wait than a sync can spend): the platform
    // retries the attempt later, so these are transient, not the connector's fault.
    case 429:
      return new TransientError(
        `Orchestra kept rate-limiting ${what} (429)${tries}: lower \`requests_per_minute\`, or ` +
          'pause other tools that share this API key, then run the sync again.',
      );
    default:
      if (status >= 500) {
        return new TransientError(
          `Orchestra's API failed with HTTP ${status} on ${what}${tries}${said}: this is on ` +
            "Orchestra's side; run the sync again later (it resumes from its last checkpoint).",
        );
      }
      if (status >= 300 && status < 400) {
        return new ConfigError(
          `${baseUrl} redirected ${what} (HTTP ${status}): set \`api_url\` to the API's final ` +
            `address (normally ${DEFAULT_API_URL}).`,
        );
      }
      return new SystemError(`Orchestra answered HTTP ${status} on ${what}${tries}${said}.`);
  }
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/** Network-level failure (no HTTP status). Only `code` and the host are used: never headers. */
export function networkError(
  code: string | undefined,
  ctx: RequestContext,
  baseUrl: string,
  timeoutMs: number,
  attempts: number,
): Error {
  const what = describeRequest(ctx);
  const host = hostOf(baseUrl);
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  if (code && DNS_CODES.has(code)) {
    return new ConfigError(
      `Cannot resolve the host ${host} (${code})${tries}: check \`api_url\` and this machine's ` +
        'DNS and network access.',
    );
  }
  if (code === 'ECONNREFUSED') {
    return new ConfigError(
      `Cannot connect to ${host} (connection refused)${tries}: check \`api_url\` and that a ` +
        'firewall or proxy allows outbound HTTPS to it.',
    );
  }
  if (code && TIMEOUT_CODES.has(code)) {
    return new TransientError(
      `Orchestra did not answer ${what} within ${Math.round(timeoutMs / 1000)}s${tries}: raise ` +
        '`request_timeout_seconds` or run the sync again later.',
    );
  }
  // Resets, broken pipes and the like: the network path failed on every attempt.
  return new TransientError(
    `The connection to ${host} failed during ${what} (${code ?? 'network error'})${tries}: run ` +
      'the sync again; if it persists, check the network path to the API.',
  );
}

export function isTimeoutCode(code: string | undefined): boolean {
  return code !== undefined && TIMEOUT_CODES.has(code);
}

/** A 2xx answer that is not the JSON envelope we expect. */
export function malformedError(
  reason: string,
  looksLikeHtml: boolean,
  ctx: RequestContext,
  baseUrl: string,
  attempts: number,
): Error {
  const what = describeRequest(ctx);
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  if (looksLikeHtml) {
    return new ConfigError(
      `${baseUrl} answered ${what} with an HTML page instead of Orchestra's JSON${tries}: ` +
        `\`api_url\` points at a website or a proxy page; set it to ${DEFAULT_API_URL}.`,
    );
  }
  // Truncated or empty bodies were retried like network errors; the next attempt may well succeed.
  return new TransientError(
    `Orchestra returned a malformed response to ${what}${tries}: ${reason}. Run the sync ` +
      'again; it resumes from its last checkpoint.',
  );
}

export function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return baseUrl;
  }
}

/** Replaces every secret (and any Bearer token) in a text; used on every message we print. */
export function makeRedactor(secrets: Array<string | undefined>): (text: string) => string {
  const list = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4);
  return (text: string) => {
    let out = text.replace(/(Bearer\s+)[^\s"',]+/gi, '$1REDACTED');
    for (const secret of list) out = out.split(secret).join('REDACTED');
    return out;
  };
}
