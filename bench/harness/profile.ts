/**
 * Where the connector spends its CPU: one `bin/main read` under `node --cpu-prof`, summarised as
 * self time per function and per module (our lib/ files, each npm package, Node internals).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { failureOf } from './child';
import { runConnector } from './connector';
import { ROOT } from './paths';
import { Table } from './report';
import { startBenchSimulator } from './throughput';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  total_ms: number;
  by_function: { name: string; self_ms: number; share: number }[];
  by_module: { module: string; self_ms: number; share: number }[];
}

function moduleOf(url: string): string {
  if (!url) return '(native / idle / gc)';
  if (url.startsWith('node:')) return 'node internals';
  const npm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (npm) return `npm: ${npm[1]}`;
  const file = url.replace(/^file:\/\//, '');
  return path.relative(ROOT, file) || file;
}

export function summariseProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    total += us;
    const where = url ? `${moduleOf(url)}:${lineNumber + 1}` : '';
    const name = `${functionName || '(anonymous)'} ${where}`.trim();
    fn.set(name, (fn.get(name) ?? 0) + us);
    const m = moduleOf(url);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const rank = (map: Map<string, number>) =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    file: path.relative(ROOT, file),
    total_ms: Math.round(total / 1000),
    by_function: rank(fn).map(([name, us]) => ({
      name,
      self_ms: Math.round(us / 1000),
      share: Math.round((us / total) * 1000) / 10,
    })),
    by_module: rank(mod).map(([module, us]) => ({
      module,
      self_ms: Math.round(us / 1000),
      share: Math.round((us / total) * 1000) / 10,
    })),
  };
}

/** Profiles one full-refresh read of `records` with `inFlight` pages in flight. */
export async function profileCase(
  records: number,
  inFlight: number,
  dir: string,
  log: (line: string) => void,
): Promise<ProfileSummary> {
  fs.mkdirSync(dir, { recursive: true });
  const before = new Set(fs.readdirSync(dir));
  const sim = await startBenchSimulator(records);
  try {
    log(`profile: bin/main read under --cpu-prof, ${records} records, ${inFlight} in flight...`);
    const run = await runConnector(sim, {
      config: { pages_in_flight: inFlight },
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    });
    const failure = failureOf(run);
    if (failure) throw new Error(`profiled run failed: ${failure}`);
  } finally {
    await sim.stop();
  }
  const created = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (created.length === 0) throw new Error(`no .cpuprofile written in ${dir}`);
  // Should several Node processes write profiles, the sync is the one with the biggest profile.
  const biggest = created
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  return summariseProfile(biggest);
}

export function profileTables(summary: ProfileSummary): Table[] {
  return [
    {
      title: `CPU profile of bin/main read by module (${summary.total_ms} ms sampled, ${summary.file})`,
      columns: ['module', 'self ms', 'share %'],
      rows: summary.by_module.map((m) => [m.module, m.self_ms, m.share]),
    },
    {
      title: 'CPU profile: top functions by self time',
      columns: ['function', 'self ms', 'share %'],
      rows: summary.by_function.map((f) => [f.name, f.self_ms, f.share]),
    },
  ];
}
