/**
 * Every response the simulator sends validates against Orchestra's OpenAPI contract (strict formats,
 * additionalProperties false), across scenarios, window fields, optional-field modes and simulated days;
 * and over all of them every field of every record schema carries a real (non-null) value somewhere.
 */
import { SimulatorOptionsInput, startSimulator } from '../src';
import { DAY, HOUR, get } from './helpers';
import { loadContract } from './openapi';

const contract = loadContract();

const ENVELOPES: Record<string, string> = {
  pipeline_runs: 'PaginatedResponse_PipelineRunResponse_',
  task_runs: 'PaginatedResponse_TaskRunResponse_',
  operations: 'PaginatedResponse_OperationResponse_',
};
const RECORDS: Record<string, string> = {
  pipeline_runs: 'PipelineRunResponse',
  task_runs: 'TaskRunResponse',
  operations: 'OperationResponse',
};

interface Tally {
  responses: number;
  records: number;
  nonNull: Record<string, Set<string>>;
  errors: string[];
}

const CONFIGS: [string, SimulatorOptionsInput][] = [
  ['calm, nulls, created window', { scenario: 'calm', seed: 11 }],
  [
    'hostile, omitted optionals, updated window',
    {
      scenario: 'hostile',
      seed: 12,
      windowField: 'updated',
      rateLimit: 0,
      faults: { hang: 0, reset: 0, truncated: 0, serverError: 0, rateLimited: 0, slow: 0 },
    },
  ],
  [
    'realistic, descending, clamped windows',
    {
      scenario: 'realistic',
      seed: 13,
      rateLimit: 0,
      wideWindow: 'clamp',
      faults: { hang: 0, serverError: 0, rateLimited: 0, slow: 0 },
    },
  ],
];

async function sweep(config: SimulatorOptionsInput, tally: Tally): Promise<void> {
  const sim = await startSimulator({
    ...config,
    clock: 'manual',
    start: '2026-02-10T06:00:00Z',
    records: 2500,
  });
  try {
    for (let step = 0; step < 6; step++) {
      const now = sim.clock.now().getTime();
      const window = {
        time_from: new Date(now - 7 * DAY).toISOString(),
        time_to: new Date(now).toISOString(),
      };
      for (const stream of Object.keys(ENVELOPES)) {
        const fetchPage = (page: number) =>
          get(`${sim.baseUrl}/${stream}`, {
            ...window,
            page,
            page_size: 15,
            include_superseded: step % 2 === 0,
          });
        const first = await fetchPage(1);
        const total = (first.json as { total?: number } | undefined)?.total ?? 0;
        const rest = Array.from(
          { length: Math.max(0, Math.ceil(total / 15) - 1) },
          (_, k) => k + 2,
        );
        const responses = [first];
        // Eight pages in flight: the simulator is not what this test measures.
        for (let k = 0; k < rest.length; k += 8) {
          responses.push(...(await Promise.all(rest.slice(k, k + 8).map(fetchPage))));
        }
        for (const [idx, r] of responses.entries()) {
          const page = idx + 1;
          tally.responses++;
          if (r.status !== 200) {
            tally.errors.push(`${stream} page ${page}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
            break;
          }
          const body = r.json as {
            results: Record<string, unknown>[];
            total: number;
            pageSize: number;
          };
          for (const e of contract.validate(ENVELOPES[stream], body))
            tally.errors.push(`${stream} page ${page}: ${e}`);
          for (const rec of body.results) {
            tally.records++;
            const seen = (tally.nonNull[stream] ??= new Set());
            for (const [k, v] of Object.entries(rec)) if (v !== null) seen.add(k);
          }
        }
      }
      // The nested endpoint, for a few runs.
      const runs = (await get(`${sim.baseUrl}/pipeline_runs`, { page_size: 5 })).json as {
        results: { id: string }[];
      };
      for (const run of runs.results) {
        const r = await get(`${sim.baseUrl}/pipeline_runs/${run.id}/task_runs`, { page_size: 50 });
        tally.responses++;
        for (const e of contract.validate(ENVELOPES.task_runs, r.json))
          tally.errors.push(`nested task_runs: ${e}`);
      }
      sim.clock.advance(19 * HOUR);
    }
    // Validation errors are FastAPI HTTPValidationError bodies.
    const invalid: Record<string, string | number>[] = [
      { page_size: 500 },
      { page: 0 },
      { time_from: 'yesterday', time_to: 'today' },
      { pipeline_ids: 'x' },
    ];
    for (const params of invalid) {
      const r = await get(`${sim.baseUrl}/pipeline_runs`, params);
      tally.responses++;
      if (r.status !== 422)
        tally.errors.push(`expected 422 for ${JSON.stringify(params)}, got ${r.status}`);
      for (const e of contract.validate('HTTPValidationError', r.json))
        tally.errors.push(`422 body: ${e}`);
    }
  } finally {
    await sim.close();
  }
}

describe('schema conformance against contracts/orchestra-openapi.json', () => {
  const tally: Tally = { responses: 0, records: 0, nonNull: {}, errors: [] };

  beforeAll(async () => {
    for (const [, config] of CONFIGS) await sweep(config, tally);
  }, 300000);

  test('thousands of responses across scenarios validate with no error', () => {
    expect(tally.responses).toBeGreaterThan(2000);
    expect(tally.records).toBeGreaterThan(20000);
    expect(tally.errors.slice(0, 20)).toEqual([]);
  });

  test('every property of every record schema carries a non-null value in some record', () => {
    const missing: string[] = [];
    for (const [stream, name] of Object.entries(RECORDS)) {
      for (const prop of Object.keys(contract.schema(name).properties ?? {})) {
        if (!tally.nonNull[stream]?.has(prop)) missing.push(`${stream}.${prop}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('the validator is not vacuous: it rejects an extra field, a bad UUID and a missing required field', () => {
    const good = {
      page: 1,
      pageSize: 1,
      total: 1,
      results: [
        {
          id: 'a4a1f7a2-5a35-4c1e-9a7e-0d5c7b3f4e21',
          accountId: 'a4a1f7a2-5a35-4c1e-9a7e-0d5c7b3f4e21',
          pipelineRunId: 'a4a1f7a2-5a35-4c1e-9a7e-0d5c7b3f4e21',
          insertedAt: '2025-05-01T11:16:39.421992+00:00',
          operationStatus: 'SUCCEEDED',
          operationType: 'QUERY',
          externalId: 'x',
        },
      ],
    };
    expect(contract.validate(ENVELOPES.operations, good)).toEqual([]);
    const extra = { ...good, results: [{ ...good.results[0], surprise: 1 }] };
    expect(contract.validate(ENVELOPES.operations, extra).join()).toMatch(/additional/);
    const badUuid = { ...good, results: [{ ...good.results[0], id: 'not-a-uuid' }] };
    expect(contract.validate(ENVELOPES.operations, badUuid).join()).toMatch(/uuid4/);
    const { externalId: _drop, ...noExt } = good.results[0];
    expect(contract.validate(ENVELOPES.operations, { ...good, results: [noExt] }).join()).toMatch(
      /externalId/,
    );
  });
});
