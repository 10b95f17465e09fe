import { Page } from '../../src/client/client';
import { SimulatorHandle, startSimulator } from 'orchestra-api-simulator';
import { newPassReport, readPages } from '../../src/streams/pages';
import { Destination, logsOf, recordsOf } from '../helpers/messages';
import { syncInProcess } from '../helpers/sync';
import { compare, servedNow, summary } from '../helpers/truth';

const START = '2026-03-10T12:00:00Z';

describe('reading every page of a window', () => {
  let sim: SimulatorHandle;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, clock: 'manual', start: START, records: 3000 });
  });
  afterEach(() => {
    sim.configure({ scenario: 'calm' });
    sim.resetStats();
  });
  afterAll(() => sim.close());

  const config = () => ({
    api_url: sim.baseUrl,
    requests_per_minute: 100000,
    page_size: 25,
    pages_in_flight: 4,
    window_hours: 168,
  });

  async function readTaskRuns() {
    const result = await syncInProcess(config(), [], {
      mode: 'full_refresh',
      streams: ['task_runs'],
      sleep: async () => undefined,
    });
    const dest = new Destination();
    dest.apply(result.messages);
    return {
      result,
      comparison: compare(dest, 'task_runs', servedNow(sim, 'task_runs', 'created').served),
    };
  }

  it('does not end a window on a page that stays empty while total says more: it re-reads the window', async () => {
    sim.inject([{ fault: 'emptyPage', count: 2, endpoint: 'task_runs' }]);
    const { result, comparison } = await readTaskRuns();
    expect(result.failed).toBe(false);
    expect(summary(comparison)).toMatchObject({ lost: 0, stale: 0 });
    const warnings = logsOf(result.messages, 'WARN');
    expect(
      warnings.some((w) => /page 1 came back empty although the API reports \d+ records/.test(w)),
    ).toBe(true);
    expect(
      logsOf(result.messages).some((l) =>
        /was not consistent.*a page came back short\); reading the window again/.test(l),
      ),
    ).toBe(true);
  });

  it('re-reads, then splits, a window whose pages shift while it is read', async () => {
    sim.inject([{ fault: 'shift', count: 3, endpoint: 'task_runs' }]);
    const { result, comparison } = await readTaskRuns();
    expect(result.failed).toBe(false);
    expect(summary(comparison)).toMatchObject({ lost: 0, stale: 0 });
    const info = logsOf(result.messages, 'INFO');
    expect(info.some((l) => /pass 1 was not consistent \(total \d+ -> \d+/.test(l))).toBe(true);
  });

  it('emits a record once per window when pages overlap', async () => {
    sim.inject([{ fault: 'duplicate', count: 5, endpoint: 'task_runs' }]);
    const { result, comparison } = await readTaskRuns();
    expect(summary(comparison)).toMatchObject({ lost: 0, stale: 0 });
    const ids = recordsOf(result.messages, 'task_runs').map((r) => r.id as string);
    expect(ids.length - new Set(ids).size).toBe(0);
  });
});

describe('page reader', () => {
  it('keeps at most pages_in_flight requests outstanding and yields pages in order', async () => {
    let outstanding = 0;
    let peak = 0;
    const total = 230;
    const fetch = async (page: number): Promise<Page> => {
      outstanding++;
      peak = Math.max(peak, outstanding);
      // Later pages answer first: order must still be page order.
      await new Promise((r) => setTimeout(r, 40 - page * 3));
      outstanding--;
      const start = (page - 1) * 20;
      const n = Math.max(0, Math.min(20, total - start));
      return {
        page,
        pageSize: 20,
        total,
        results: Array.from({ length: n }, (_, i) => ({ id: `r${start + i}` })),
      };
    };
    const report = newPassReport();
    const pages: number[] = [];
    const silent = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    for await (const page of readPages(
      fetch,
      { pageSize: 20, pagesInFlight: 4, log: silent, label: 't' },
      report,
    )) {
      pages.push(page.page);
    }
    expect(pages).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(peak).toBe(4);
    expect(report).toMatchObject({ records: 230, cutShort: false, totals: Array(12).fill(230) });
  });
});
