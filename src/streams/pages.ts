import { Log, Page } from '../client/client';

/** What one pass over a window's pages observed, to judge whether it saw the whole window. */
export interface PassReport {
  /** Every `total` the API reported during the pass, in page order. */
  totals: number[];
  pages: number;
  records: number;
  /** A page came back empty or short while `total` said there was more. */
  cutShort: boolean;
}

export function newPassReport(): PassReport {
  return { totals: [], pages: 0, records: 0, cutShort: false };
}

export function totalsStable(report: PassReport): boolean {
  return report.totals.every((t) => t === report.totals[0]);
}

export function lastTotal(report: PassReport): number {
  return report.totals[report.totals.length - 1] ?? 0;
}

export interface PageReaderOptions {
  pageSize: number;
  pagesInFlight: number;
  log: Log;
  /** For warnings: e.g. "task_runs window 2026-... -> 2026-...". */
  label: string;
}

/**
 * Reads every page of one window, with up to `pagesInFlight` requests outstanding, yielding pages in
 * page order. Stops at a short or empty page, or once page * page_size >= total. A page that is
 * empty while `total` says there is more is requested once more (pages shift), and the pass is
 * flagged as cut short so the caller re-reads the window instead of silently ending it.
 */
export async function* readPages(
  fetch: (page: number) => Promise<Page>,
  options: PageReaderOptions,
  report: PassReport,
): AsyncGenerator<Page> {
  const pending = new Map<number, Promise<Page>>();
  const request = (n: number): Promise<Page> => {
    const p = fetch(n);
    // Pages requested ahead may be abandoned when the window ends early; never leave a
    // rejection unobserved. The page's own consumer still sees the error.
    p.catch(() => undefined);
    pending.set(n, p);
    return p;
  };
  let pageSize = options.pageSize;
  let lastPage = 1;
  try {
    for (let n = 1; ; n++) {
      let page = await (pending.get(n) ?? request(n));
      pending.delete(n);
      if (n === 1) {
        // The API may serve fewer rows per page than asked (it caps page_size); judge pages by
        // what it says it served, or the first page would look short.
        if (page.pageSize > 0 && page.pageSize < pageSize) pageSize = page.pageSize;
      }
      const expected = page.total - (n - 1) * pageSize;
      if (page.results.length === 0 && expected > 0) {
        options.log.warn(
          `${options.label}: page ${n} came back empty although the API reports ${page.total} ` +
            'records; requesting it again (pages shift while data changes)',
        );
        page = await request(n);
        pending.delete(n);
        if (page.results.length === 0 && page.total - (n - 1) * pageSize > 0) {
          report.cutShort = true;
        }
      }
      report.totals.push(page.total);
      report.pages++;
      report.records += page.results.length;
      yield page;
      const remaining = page.total - n * pageSize;
      if (page.results.length === 0 || page.results.length < pageSize) {
        if (remaining > 0 && page.results.length > 0) report.cutShort = true;
        return;
      }
      if (remaining <= 0) return;
      lastPage = Math.max(lastPage, Math.ceil(page.total / pageSize));
      for (let ahead = n + 1; ahead <= lastPage && pending.size < options.pagesInFlight; ahead++) {
        if (!pending.has(ahead)) request(ahead);
      }
    }
  } finally {
    pending.clear();
  }
}
