/**
 * The README's Docker recipes (`<!-- smoke: NAME -->`), run as users read them: in the image (podman
 * with host networking) and with bin/main on the host, against the simulator of the acceptance tests
 * on a free port and a manual clock, so that both runs see the same simulated now. Also checks the
 * acceptance-test inputs under integration_tests/ against the image, and regenerates them with
 * SMOKE_WRITE_FIXTURES=1. The key is a canary that must never be printed.
 */
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import fs from 'fs';
import path from 'path';

import { Msg, parseLines, recordsOf, statesOf, tracesOf } from '../helpers/messages';
import {
  Mode,
  RECIPE_NAMES,
  ROOT,
  RecipeName,
  WRITE_FIXTURES,
  assertOnlyMessages,
  canonical,
  comparable,
  imageTag,
  lineDiff,
  note,
  once,
  openToContainer,
  prettierWrite,
  readmeRecipes,
  recipe,
  run,
  runRecipe,
  tail,
  workFolder,
} from './harness';

const IMAGE = imageTag();
const CANARY = `smoke-canary-${randomBytes(6).toString('hex')}`;
const BAD_KEY = `smoke-bad-key-${randomBytes(6).toString('hex')}`;
const STREAMS = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'resources', 'streams.json'), 'utf8')) as {
    streams: { name: string }[];
  }
).streams
  .map((s) => s.name)
  .sort();
const work = workFolder('recipes');
const OUT = path.join(work.dir, 'out');
let failed = false;
let simulator: ChildProcess | undefined;

afterAll(() => {
  simulator?.kill();
  work.done(failed);
});

/** Keeps the work folder (every output of both runs) when a step fails. */
function step<T>(fn: () => Promise<T>): () => Promise<T> {
  return once(async () => {
    try {
      return await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  });
}

function integrationFile(name: string): string {
  return path.join(ROOT, 'integration_tests', name);
}
function readJson<T = Msg>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

// --- the simulator and the folders the recipes run in ---------------------------------------------

interface Simulator {
  url: string;
  origin: string;
}

/** The README's cat-simulator command, on port 0 and a manual clock, with the canary key. */
const setup = step(async (): Promise<Simulator> => {
  fs.mkdirSync(OUT, { recursive: true });
  const command = recipe('cat-simulator')
    .trim()
    .replace(/\s*&$/, '')
    .replace(/--port [0-9]*/, '--port 0')
    .replace(/--clock [a-z]*/, '--clock manual');
  if (!command.startsWith('node simulator/lib/cli.js ')) {
    throw new Error(`the cat-simulator recipe does not start simulator/lib/cli.js: ${command}`);
  }
  const [node, ...args] = command.split(/\s+/);
  const proc = spawn(node, [...args, '--api-key', CANARY], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  simulator = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    fs.appendFileSync(path.join(OUT, 'simulator.stdout'), d);
  });
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    fs.appendFileSync(path.join(OUT, 'simulator.stderr'), d);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the simulator did not print 'listening on <url>' within 10 s`)),
      10_000,
    );
    proc.stdout?.on('data', () => {
      const m = /^listening on (\S+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the simulator exited ${code}: ${tail(stderr, 10)}`));
    });
  });
  const origin = url.replace(/\/api\/engine\/public$/, '');
  note(`${command} -> ${url} (simulated now ${await simulatedNow(origin)})`);
  // The acceptance tests' config pointed at this simulator, with the canary and with a wrong key.
  const source = readJson(integrationFile('config.json'));
  for (const mode of ['container', 'host'] as Mode[]) {
    for (const [where, key] of [
      ['good', CANARY],
      ['bad', BAD_KEY],
    ]) {
      const secrets = path.join(work.dir, mode, where, 'secrets');
      fs.mkdirSync(secrets, { recursive: true });
      const config = { ...source, api_url: url, api_key: key };
      fs.writeFileSync(path.join(secrets, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    }
  }
  await openToContainer(work.dir);
  return { url, origin };
});

async function simulatedNow(origin: string): Promise<string> {
  const res = await fetch(`${origin}/_sim/now`);
  if (!res.ok) throw new Error(`GET /_sim/now: HTTP ${res.status}`);
  return ((await res.json()) as { now: string }).now;
}

// --- running a recipe in the image and on the host --------------------------------------------------

interface Both {
  /** The messages the recipe printed (or wrote to the file it names), as text. */
  container: string;
  host: string;
  messages: Msg[];
}

/** Runs a recipe as the image and on the host in folder good|bad; both must exit 0. */
async function both(
  name: RecipeName,
  where: 'good' | 'bad',
  tag: string,
  messagesFile?: string,
): Promise<Both> {
  await setup();
  const text: Record<Mode, string> = { container: '', host: '' };
  for (const mode of ['container', 'host'] as Mode[]) {
    const dir = path.join(work.dir, mode, where);
    const r = await runRecipe(mode, name, dir);
    fs.writeFileSync(path.join(OUT, `${mode}-${tag}.stdout`), r.stdout);
    fs.writeFileSync(path.join(OUT, `${mode}-${tag}.stderr`), r.stderr);
    if (r.code !== 0) {
      throw new Error(`${tag} (${mode}) exited ${r.code}: ${tail(r.stderr + '\n' + r.stdout, 5)}`);
    }
    text[mode] = messagesFile ? fs.readFileSync(path.join(dir, messagesFile), 'utf8') : r.stdout;
    fs.writeFileSync(path.join(OUT, `${mode}-${tag}.jsonl`), text[mode]);
  }
  assertOnlyMessages(text.container, tag);
  return { ...text, messages: parseLines(text.container) };
}

/** A file a recipe wrote under secrets/, from the image's run and the host's. */
function written(file: string): Texts {
  return {
    container: fs.readFileSync(path.join(work.dir, 'container', 'good', 'secrets', file), 'utf8'),
    host: fs.readFileSync(path.join(work.dir, 'host', 'good', 'secrets', file), 'utf8'),
  };
}

type Texts = Record<Mode, string>;

const runs: {
  spec: () => Promise<Both>;
  check: () => Promise<Both>;
  'check-bad': () => Promise<Both>;
  discover: () => Promise<Both>;
  catalog: () => Promise<Both & { file: Texts }>;
  read: () => Promise<Both>;
  'save-state': () => Promise<Both & { file: Texts }>;
  'read-2': () => Promise<Both & { state1: Texts; state2: Texts }>;
} = {
  spec: step(() => both('spec', 'good', 'spec')),
  check: step(() => both('check', 'good', 'check')),
  'check-bad': step(() => both('check', 'bad', 'check-bad')),
  discover: step(() => both('discover', 'good', 'discover')),
  catalog: step(async () => ({
    ...(await both('catalog', 'good', 'catalog')),
    file: written('catalog.json'),
  })),
  read: step(async () => {
    await runs.catalog();
    return both('read', 'good', 'read', 'messages.jsonl');
  }),
  'save-state': step(async () => {
    await runs.read();
    return { ...(await both('save-state', 'good', 'save-state')), file: written('state.json') };
  }),
  'read-2': step(async () => {
    const state1 = (await runs['save-state']()).file;
    const { origin } = await setup();
    const res = await fetch(`${origin}/_sim/advance?ms=7200000`, { method: 'POST' });
    if (!res.ok) throw new Error(`could not advance the simulator's clock: HTTP ${res.status}`);
    const read = await both('read-incremental', 'good', 'read-2', 'messages.jsonl');
    return { ...read, state1, state2: written('state.json') };
  }),
};

/** integration_tests/configured_catalog.json (rewritten first with SMOKE_WRITE_FIXTURES=1). */
const catalogFixture = step(async () => {
  const derived = (await runs.catalog()).file.container;
  const fixture = integrationFile('configured_catalog.json');
  if (WRITE_FIXTURES) {
    fs.writeFileSync(fixture, derived);
    await prettierWrite(fixture);
    note('wrote integration_tests/configured_catalog.json');
  }
  return { derived: JSON.parse(derived) as Msg, fixture: readJson(fixture) };
});

/** The image's output is the host's, message for message (emitted_at and durations aside). */
function expectSameAsHost(tag: string, r: { container: string; host: string }): void {
  const host = comparable(r.host);
  const image = comparable(r.container);
  if (canonical(host) !== canonical(image)) {
    failed = true; // keep both outputs (work folder) for a full diff
    throw new Error(
      `${tag}: the image's output differs from bin/main on the host (- host, + image):\n${lineDiff(host, image)}`,
    );
  }
  const messages = parseLines(r.container);
  const logs = messages.filter((m) => m.type === 'LOG').length;
  note(`${tag}: ${messages.length - logs} messages and ${logs} LOG lines identical to the host's`);
}

// --- the tests --------------------------------------------------------------------------------------

describe('the README Docker recipes', () => {
  it('the README marks every recipe CI runs with <!-- smoke: NAME -->', () => {
    const recipes = readmeRecipes();
    expect(RECIPE_NAMES.filter((n) => !recipes.get(n)?.trim())).toEqual([]);
  });

  it('every docker run recipe runs the image the build recipe tags', () => {
    for (const name of RECIPE_NAMES) {
      for (const line of recipe(name).split('\n')) {
        if (/^\s*docker run /.test(line) || / docker run /.test(line)) {
          expect(`${name}: ${line}`).toContain(` ${IMAGE}`);
        }
      }
    }
  });

  it("the cat-simulator recipe starts the simulator package's CLI", async () => {
    expect((await setup()).url).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+\/api\/engine\/public$/);
  });
});

describe('every recipe of the README prints the same messages in the container as bin/main on the host', () => {
  it.each(['spec', 'check', 'check-bad', 'discover', 'catalog', 'read', 'save-state'] as const)(
    '%s',
    async (tag) => expectSameAsHost(tag, await runs[tag]()),
  );
});

describe('spec, check and discover in the image', () => {
  it('spec prints one SPEC message carrying resources/spec.json', async () => {
    const { messages } = await runs.spec();
    const want = readJson(path.join(ROOT, 'resources', 'spec.json'));
    const specs = messages.filter((m) => m.type === 'SPEC');
    expect(specs).toHaveLength(1);
    expect(specs[0].spec.connectionSpecification).toEqual(want.connectionSpecification);
  });

  it('check with a good key prints CONNECTION_STATUS SUCCEEDED', async () => {
    const { messages } = await runs.check();
    const statuses = messages.filter((m) => m.type === 'CONNECTION_STATUS');
    expect(statuses.map((m) => m.connectionStatus.status)).toEqual(['SUCCEEDED']);
  });

  it('check with a wrong key prints one CONNECTION_STATUS FAILED, nothing else, and exits 0', async () => {
    const { messages } = await runs['check-bad']();
    const notLogs = messages.filter((m) => m.type !== 'LOG');
    expect(notLogs.map((m) => `${m.type}:${m.connectionStatus?.status ?? ''}`)).toEqual([
      'CONNECTION_STATUS:FAILED',
    ]);
    note(`message: ${notLogs[0].connectionStatus.message}`);
  });

  it('discover lists the streams of resources/streams.json', async () => {
    const { messages } = await runs.discover();
    const names = messages
      .filter((m) => m.type === 'CATALOG')
      .flatMap((m) => (m.catalog.streams as { name: string }[]).map((s) => s.name))
      .sort();
    expect(names).toEqual(STREAMS);
  });
});

describe('catalog, read and state in the image', () => {
  it('the catalog recipe writes the same configured catalog in the container as on the host', async () => {
    const { file } = await runs.catalog();
    expect(canonical(JSON.parse(file.container))).toBe(canonical(JSON.parse(file.host)));
  });

  it('integration_tests/configured_catalog.json is the catalog the catalog recipe derives', async () => {
    const { derived, fixture } = await catalogFixture();
    if (canonical(fixture) !== canonical(derived)) {
      throw new Error(
        'integration_tests/configured_catalog.json is not the catalog the catalog recipe derives: ' +
          'regenerate it with SMOKE_WRITE_FIXTURES=1 bash scripts/docker-smoke.sh and review the diff',
      );
    }
  });

  it('a full read gives records and STATE checkpoints for every stream', async () => {
    const { messages } = await runs.read();
    for (const s of STREAMS) {
      const n = recordsOf(messages, s).length;
      const k = statesOf(messages, s).length;
      note(`${s}: ${n} records, ${k} STATE checkpoints`);
      expect({ stream: s, records: n > 0, states: k > 0 }).toEqual({
        stream: s,
        records: true,
        states: true,
      });
    }
  });

  it('a successful full read carries no TRACE ERROR', async () => {
    expect(tracesOf((await runs.read()).messages, 'ERROR')).toEqual([]);
  });

  it('save-state writes the same state in the container as on the host', async () => {
    const { file } = await runs['save-state']();
    expect(file.container).toBe(file.host);
  });

  it('save-state keeps one STREAM state per stream', async () => {
    const state = JSON.parse((await runs['save-state']()).file.container) as Msg[];
    expect(state).toHaveLength(STREAMS.length);
    expect(state.filter((s) => s.type !== 'STREAM')).toEqual([]);
  });
});

// Airbyte's acceptance tests themselves run in scripts/cat.sh (their configs are checked by
// test/conformance/acceptance-config.test.ts); these check each input against the image.
describe('the acceptance-test inputs (integration_tests/) against the image', () => {
  const catDir = path.join(work.dir, 'container', 'cat');
  const catSetup = step(async () => {
    const { url } = await setup();
    await catalogFixture(); // the configured catalog is current (or was just rewritten)
    fs.mkdirSync(catDir, { recursive: true });
    const put = (name: string, value: unknown): void =>
      fs.writeFileSync(path.join(catDir, name), JSON.stringify(value, null, 2) + '\n');
    put('config.json', {
      ...readJson<Msg>(integrationFile('config.json')),
      api_url: url,
      api_key: CANARY,
    });
    put('invalid_config.json', {
      ...readJson<Msg>(integrationFile('invalid_config.json')),
      api_url: url,
    });
    const configured = readJson<{ streams: Msg[] }>(integrationFile('configured_catalog.json'));
    put('configured_catalog.json', configured);
    put('full_refresh_catalog.json', {
      ...configured,
      streams: configured.streams.map((s) => ({
        ...s,
        sync_mode: 'full_refresh',
        destination_sync_mode: 'overwrite',
      })),
    });
    await openToContainer(catDir);
  });

  async function catRun(
    tag: string,
    ...args: string[]
  ): Promise<{ code: number; messages: Msg[] }> {
    await catSetup();
    const r = await run('podman', [
      'run',
      '--rm',
      '--network',
      'host',
      '-v',
      `${catDir}:/secrets:ro`,
      IMAGE,
      ...args,
    ]);
    fs.writeFileSync(path.join(OUT, `cat-${tag}.jsonl`), r.stdout);
    fs.writeFileSync(path.join(OUT, `cat-${tag}.stderr`), r.stderr);
    assertOnlyMessages(r.stdout, `cat ${tag}`);
    if (r.code !== 0) throw new Error(`cat ${tag} exited ${r.code}: ${tail(r.stderr, 3)}`);
    return { code: r.code, messages: parseLines(r.stdout) };
  }

  // CAT's `status: failed`: exactly one CONNECTION_STATUS, FAILED; a configuration problem exits 0.
  it('invalid_config.json: check exits 0 with one CONNECTION_STATUS FAILED and no TRACE', async () => {
    const { messages } = await catRun(
      'invalid',
      'check',
      '--config',
      '/secrets/invalid_config.json',
    );
    const statuses = messages.filter((m) => m.type === 'CONNECTION_STATUS');
    expect(statuses.map((m) => m.connectionStatus.status)).toEqual(['FAILED']);
    expect(tracesOf(messages)).toEqual([]);
  });

  const fullRefresh = step(async () => {
    const { origin } = await setup();
    const read = await catRun(
      'full-refresh',
      'read',
      '--config',
      '/secrets/config.json',
      '--catalog',
      '/secrets/full_refresh_catalog.json',
    );
    const fixture = integrationFile('expected_records.jsonl');
    if (WRITE_FIXTURES) {
      // The three oldest records of each stream: finished long before the simulated now, so a CAT
      // run on the simulator's wall clock minutes later still reads them unchanged.
      const at = Math.floor(Date.parse(await simulatedNow(origin)) / 1000) * 1000;
      const lines = oldestRecords(read.messages, 3).map((r) =>
        JSON.stringify({ stream: r.stream, data: r.data, emitted_at: at }),
      );
      fs.writeFileSync(fixture, lines.join('\n') + '\n');
      note(`wrote integration_tests/expected_records.jsonl (${lines.length} records)`);
    }
    return { read: read.messages, expected: parseLines(fs.readFileSync(fixture, 'utf8')) };
  });

  it('expected_records.jsonl: every record is in a full-refresh read', async () => {
    const { read, expected } = await fullRefresh();
    const actual = new Set(
      read
        .filter((m) => m.type === 'RECORD')
        .map((m) => canonical({ stream: m.record.stream, data: m.record.data })),
    );
    const missing = expected
      .map((e) => canonical({ stream: e.stream, data: e.data }))
      .filter((e) => !actual.has(e));
    if (missing.length > 0) {
      throw new Error(
        'integration_tests/expected_records.jsonl has records a full-refresh read does not return ' +
          `(first 3): ${missing.slice(0, 3).join('\n')}\nregenerate: SMOKE_WRITE_FIXTURES=1 bash scripts/docker-smoke.sh`,
      );
    }
    note(
      `expected_records.jsonl: ${expected.length} records, all in a full-refresh read of ${actual.size}`,
    );
  });

  it('expected_records.jsonl covers every stream', async () => {
    const { expected } = await fullRefresh();
    expect([...new Set(expected.map((e) => e.stream as string))].sort()).toEqual(STREAMS);
  });

  it('abnormal_state.json: a read from a state in the future gives no records and a STATE', async () => {
    await fullRefresh(); // the order of a CAT run, and the simulated now the fixtures come from
    const fixture = integrationFile('abnormal_state.json');
    if (WRITE_FIXTURES) {
      // The state the image wrote (cursor, cursor_field, open_ids), moved to the end of 2999 in the
      // same format: CAT compares the two cursors' types and character layout.
      const state = JSON.parse((await runs['save-state']()).file.container) as Msg[];
      const future = state.map(({ sourceStats: _stats, ...s }) => {
        const cursor = s.stream.stream_state.cursor as string;
        s.stream.stream_state.cursor =
          '2999-12-31T23:59:59' + cursor.slice(19).replace(/[0-9]/g, '9');
        s.stream.stream_state.open_ids = [];
        return s;
      });
      fs.writeFileSync(fixture, JSON.stringify(future, null, 2) + '\n');
      await prettierWrite(fixture);
      note('wrote integration_tests/abnormal_state.json');
    }
    await catSetup();
    fs.copyFileSync(fixture, path.join(catDir, 'abnormal_state.json'));
    fs.chmodSync(path.join(catDir, 'abnormal_state.json'), 0o644);
    const { messages } = await catRun(
      'future-state',
      'read',
      '--config',
      '/secrets/config.json',
      '--catalog',
      '/secrets/configured_catalog.json',
      '--state',
      '/secrets/abnormal_state.json',
    );
    const k = statesOf(messages).length;
    expect(recordsOf(messages)).toHaveLength(0);
    expect(k).toBeGreaterThan(0);
    note(`future state: 0 records, ${k} STATE messages`);
  });
});

describe('an incremental read from the saved state, 2 simulated hours later (recipe read-incremental)', () => {
  it('prints the same messages in the container as bin/main on the host', async () => {
    expectSameAsHost('read-incremental', await runs['read-2']());
  });

  it('merges the same state in the container as on the host', async () => {
    const { state2 } = await runs['read-2']();
    expect(state2.container).toBe(state2.host);
  });

  it("moves every stream's cursor forward", async () => {
    const { state1, state2 } = await runs['read-2']();
    const s1 = JSON.parse(state1.container) as Msg[];
    const s2 = JSON.parse(state2.container) as Msg[];
    const cursor = (states: Msg[], name: string): number =>
      Date.parse(
        states.find((s) => s.stream.stream_descriptor.name === name)?.stream.stream_state.cursor,
      );
    expect(s2).toHaveLength(s1.length);
    for (const s of s1) {
      const name = s.stream.stream_descriptor.name as string;
      const [a, b] = [cursor(s1, name), cursor(s2, name)];
      note(`${name}: cursor ${new Date(a).toISOString()} -> ${new Date(b).toISOString()}`);
      expect({ stream: name, forward: b > a }).toEqual({ stream: name, forward: true });
    }
  });

  it('reads the records that changed (look-back and open runs)', async () => {
    const { messages } = await runs['read-2']();
    expect(recordsOf(messages).length).toBeGreaterThan(0);
    note(
      `${recordsOf(messages).length} records in the incremental read, ${statesOf(messages).length} STATE checkpoints`,
    );
  });
});

describe('secrets', () => {
  it('the API key never appears in any output of the image or the host', async () => {
    // Every run above, so that the scan covers them even when this test is picked alone (-t).
    for (const r of Object.values(runs) as (() => Promise<unknown>)[]) await r();
    const files = fs
      .readdirSync(OUT)
      .filter((f) => /\.(jsonl|stdout|stderr)$/.test(f) && !f.startsWith('simulator.'));
    const leaks = files.filter((f) => {
      const text = fs.readFileSync(path.join(OUT, f), 'utf8');
      return text.includes(CANARY) || text.includes(BAD_KEY);
    });
    expect(files.length).toBeGreaterThan(30);
    expect(leaks).toEqual([]);
    note(`${files.length} output files scanned`);
  });
});

/** The n oldest records of each stream (by updated_at or inserted_at, then id), streams by name. */
function oldestRecords(messages: Msg[], n: number): Msg[] {
  const byStream = new Map<string, Msg[]>();
  for (const m of messages) {
    if (m.type !== 'RECORD') continue;
    const list = byStream.get(m.record.stream) ?? [];
    list.push(m.record);
    byStream.set(m.record.stream, list);
  }
  const key = (r: Msg): unknown[] => [r.data.updated_at || r.data.inserted_at || null, r.data.id];
  return [...byStream.keys()]
    .sort()
    .flatMap((stream) =>
      (byStream.get(stream) as Msg[]).sort((a, b) => jqCompare(key(a), key(b))).slice(0, n),
    );
}

/** jq's order (null < false < true < numbers < strings < arrays), which `sort_by` used before. */
function jqCompare(a: unknown, b: unknown): number {
  const rank = (v: unknown): number =>
    v === null || v === undefined
      ? 0
      : v === false
        ? 1
        : v === true
          ? 2
          : typeof v === 'number'
            ? 3
            : typeof v === 'string'
              ? 4
              : 5;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = jqCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  const [ra, rb] = [rank(a), rank(b)];
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return 0;
}
