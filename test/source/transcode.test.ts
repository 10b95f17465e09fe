import { startSimulator } from 'orchestra-api-simulator';
import { Normalizer } from '../../src/streams/normalize';
import { streamSchema } from '../../src/streams/registry';
import { PageTranscoder } from '../../src/streams/transcode';

const STREAMS = ['pipeline_runs', 'task_runs', 'operations'];

const FRAMING = { head: Buffer.from('<'), tail: Buffer.from('>\n') };

/** Framed output back to records: every record must be exactly `<json>` on its own line. */
function unframe(bytes: Buffer | undefined): unknown[] | undefined {
  if (!bytes) return undefined;
  const lines = bytes.toString('utf8').split('>\n');
  expect(lines.pop()).toBe('');
  return lines.map((l) => {
    expect(l.startsWith('<')).toBe(true);
    return JSON.parse(l.slice(1));
  });
}

function both(
  stream: string,
  body: string,
  keep?: number[],
): { fast: unknown[] | undefined; slow: unknown[] } {
  const props = Object.keys(streamSchema(stream).properties);
  const results = JSON.parse(body).results as Array<Record<string, unknown>>;
  const indexes = keep ?? results.map((_r, i) => i);
  const bytes = new PageTranscoder(props).transcode(
    Buffer.from(body),
    results.length,
    indexes,
    FRAMING,
  );
  const normalizer = new Normalizer(props);
  const slow = indexes.map((i) => normalizer.normalize(results[i]));
  return { fast: unframe(bytes), slow };
}

describe('page transcoder (the fast path) gives the same records as the object path', () => {
  it.each(['null', 'omit'] as const)(
    'on simulator pages of every stream, optional fields sent as %s',
    async (optional) => {
      const sim = await startSimulator({
        seed: 2,
        clock: 'manual',
        start: '2026-03-10T12:00:00Z',
        records: 1500,
        optional,
      });
      try {
        for (const stream of STREAMS) {
          const url = `${sim.baseUrl}/${stream}?page=1&page_size=100&time_from=2026-03-04T00:00:00Z&time_to=2026-03-10T00:00:00Z`;
          const body = await (
            await fetch(url, { headers: { Authorization: 'Bearer simulator-key' } })
          ).text();
          const { fast, slow } = both(stream, body);
          expect(slow.length).toBeGreaterThan(10);
          expect(fast).toEqual(slow);
        }
      } finally {
        await sim.close();
      }
    },
  );

  it('on awkward but valid JSON: whitespace, escapes, nested brackets in strings, unknown fields, snake keys', () => {
    const body = ` { "total" : 3 , "results" : [
      { "id" : "a\\"b" , "pipelineId":"p\\\\", "data": {"x": "}]{[", "y": [1, {"z": "\\\\\\""}]}, "newField": -1.5e3 },
      {"id":"b","message":"line\\nbreak \\u2028 é ✓","pipeline_id":"snake","hasAnomalies":false,"anomalies":{}},
      {"id":"c","triggeredBy":[],"childPipelineRuns":[[]],"pipelineVersionNumber":0}
    ], "page": 1, "pageSize": 100 }`;
    const { fast, slow } = both('pipeline_runs', body);
    expect(fast).toEqual(slow);
  });

  it('copies only the records asked for (deduplicated ones are skipped)', () => {
    const body = JSON.stringify({
      total: 4,
      results: [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }],
    });
    const { fast, slow } = both('operations', body, [1, 3]);
    expect(fast).toEqual(slow);
    expect((fast as Array<{ id: string }>).map((r) => r.id)).toEqual(['b', 'd']);
  });

  it('fills every schema field of an empty record with null', () => {
    const { fast, slow } = both('operations', '{"results":[{}],"total":1}');
    expect(fast).toEqual(slow);
  });

  it('declines text it does not expect, so the object path takes over', () => {
    const props = Object.keys(streamSchema('operations').properties);
    const t = new PageTranscoder(props);
    const tc = (text: string, count = 1) => t.transcode(Buffer.from(text), count, [0], FRAMING);
    expect(tc('{"total":1}')).toBeUndefined();
    expect(tc('{"results":{"a":1}}')).toBeUndefined();
    expect(tc('{"results":[{"i\\u0064":"x"}]}')).toBeUndefined();
    expect(tc('{"results":[{"id":"x"}]}', 2)).toBeUndefined();
    expect(tc('[1,2]')).toBeUndefined();
  });
});
