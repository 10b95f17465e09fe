import { loadSpec, OrchestraConfig, parseConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

const KEY = 'canary-config-key-5f2b';
const UUID = '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';

function problem(raw: Record<string, unknown>): string {
  try {
    parseConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`config ${JSON.stringify(raw)} was accepted`);
}

describe('config', () => {
  it('needs only api_key and fills every other option from the spec defaults', () => {
    const config = parseConfig({ api_key: KEY });
    expect(config).toEqual<OrchestraConfig>({
      api_key: KEY,
      api_url: 'https://app.getorchestra.io/api/engine/public',
      pipeline_ids: [],
      environments: [],
      include_superseded: false,
      lookback_hours: 3,
      window_hours: 24,
      page_size: 100,
      requests_per_minute: 50,
      pages_in_flight: 2,
      request_timeout_seconds: 60,
      retry_budget_seconds: 600,
    });
  });

  it('has a config type field for every spec property, and only api_key is required', () => {
    const spec = loadSpec().connectionSpecification;
    const typed: Record<keyof OrchestraConfig, true> = {
      api_key: true,
      account_id: true,
      start_date: true,
      pipeline_ids: true,
      environments: true,
      include_superseded: true,
      lookback_hours: true,
      window_hours: true,
      page_size: true,
      requests_per_minute: true,
      pages_in_flight: true,
      request_timeout_seconds: true,
      retry_budget_seconds: true,
      api_url: true,
    };
    expect(Object.keys(spec.properties).sort()).toEqual(Object.keys(typed).sort());
    expect(spec.required).toEqual(['api_key']);
  });

  it('keeps the spec readable in the Airbyte UI: titles, descriptions, unique order, no vendor keys', () => {
    const props = loadSpec().connectionSpecification.properties as Record<
      string,
      Record<string, unknown>
    >;
    const orders = Object.values(props).map((p) => p.order);
    expect(new Set(orders).size).toBe(orders.length);
    for (const [name, prop] of Object.entries(props)) {
      expect({ name, title: typeof prop.title, description: typeof prop.description }).toEqual({
        name,
        title: 'string',
        description: 'string',
      });
      expect(Object.keys(prop).filter((k) => k.startsWith('x-') || k.includes('faros'))).toEqual(
        [],
      );
    }
    expect(props.api_key.airbyte_secret).toBe(true);
  });

  it('treats blank optional strings from a UI form as not set', () => {
    const config = parseConfig({ api_key: KEY, account_id: '', start_date: ' ' });
    expect(config.account_id).toBeUndefined();
    expect(config.start_date).toBeUndefined();
  });

  it('drops a trailing slash from api_url so paths join cleanly', () => {
    expect(parseConfig({ api_key: KEY, api_url: 'http://localhost:9/api/' }).api_url).toBe(
      'http://localhost:9/api',
    );
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['pipeline_ids not UUIDs', { pipeline_ids: ['etl'] }, /`pipeline_ids` must contain only UUIDs/],
    ['api_key missing', { api_key: undefined }, /`api_key` is required/],
    ['api_key empty', { api_key: '' }, /`api_key` must not be empty/],
    ['api_key not a string', { api_key: 42 }, /`api_key` must be a string/],
    ['account_id not a UUID', { account_id: 'acme' }, /`account_id` must be a UUID .*got "acme"/],
    [
      'start_date not a date',
      { start_date: 'yesterday' },
      /`start_date` must be an ISO 8601 date-time/,
    ],
    ['pipeline_ids not a list', { pipeline_ids: 'a,b' }, /`pipeline_ids` must be a list/],
    [
      'environments with a repeat',
      { environments: [UUID, UUID] },
      /`environments` lists the same value twice/,
    ],
    [
      'include_superseded not boolean',
      { include_superseded: 'yes' },
      /`include_superseded` must be true or false/,
    ],
    [
      'lookback_hours over 7 days',
      { lookback_hours: 169 },
      /`lookback_hours` must be between 0 and 168, got 169/,
    ],
    ['window_hours zero', { window_hours: 0 }, /`window_hours` must be between 1 and 168, got 0/],
    ['page_size over 100', { page_size: 200 }, /`page_size` must be between 1 and 100, got 200/],
    ['page_size fractional', { page_size: 10.5 }, /`page_size` must be a whole number/],
    [
      'requests_per_minute zero',
      { requests_per_minute: 0 },
      /`requests_per_minute` must be between 1/,
    ],
    [
      'pages_in_flight too many',
      { pages_in_flight: 64 },
      /`pages_in_flight` must be between 1 and 16/,
    ],
    [
      'request_timeout_seconds negative',
      { request_timeout_seconds: -1 },
      /`request_timeout_seconds` must be between 1 and 600/,
    ],
    [
      'retry_budget_seconds text',
      { retry_budget_seconds: 'lots' },
      /`retry_budget_seconds` must be a whole number/,
    ],
    ['api_url not a URL', { api_url: 'app.getorchestra.io' }, /`api_url` must be an http\(s\) URL/],
  ];

  it.each(invalid)('rejects %s with one message naming the field', (_name, fields, expected) => {
    const message = problem({ api_key: KEY, ...fields });
    expect(message).toMatch(expected);
    expect(message).not.toContain(KEY);
  });

  it('names every invalid field in one message', () => {
    const message = problem({ api_key: KEY, page_size: 0, window_hours: 500, api_url: 'nope' });
    expect(message).toMatch(/`page_size`.*`window_hours`|`window_hours`.*`page_size`/);
    expect(message).toContain('`api_url`');
  });

  it('rejects a config that is not an object', () => {
    expect(() => parseConfig([])).toThrow(/must be a JSON object/);
    expect(() => parseConfig('key')).toThrow(/must be a JSON object/);
  });
});
