/**
 * The connector image itself: metadata, contents, build context and the entrypoint (heap sizing,
 * exit status, signals). Needs podman and the image the README's build recipe tags
 * (bash scripts/docker-smoke.sh builds it, then runs these tests).
 */
import fs from 'fs';
import path from 'path';

import { Msg } from '../helpers/messages';
import {
  ROOT,
  imageTag,
  inspectImage,
  must,
  note,
  once,
  openToContainer,
  run,
  workFolder,
} from './harness';

const IMAGE = imageTag();
const BASE = 'docker.io/library/node:20-bookworm-slim';
const work = workFolder('image');
afterAll(() => work.done());

let info: Msg;
beforeAll(async () => {
  const exists = await run('podman', ['image', 'exists', IMAGE]);
  if (exists.code !== 0) {
    throw new Error(`image ${IMAGE} is not built: bash scripts/docker-smoke.sh builds it first`);
  }
  info = await inspectImage(IMAGE);
});

describe('image metadata', () => {
  it('io.airbyte.version is the package.json version', () => {
    const version = (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version;
    const label = info.Config.Labels?.['io.airbyte.version'] as string | undefined;
    if (label !== version) {
      throw new Error(
        `label io.airbyte.version is '${label}' but package.json says ${version}: update the Dockerfile's LABEL`,
      );
    }
  });

  it('io.airbyte.name is source-orchestra', () => {
    expect(info.Config.Labels?.['io.airbyte.name']).toBe('source-orchestra');
  });

  it('the image runs as the unprivileged node user', () => {
    expect(info.Config.User).toBe('node');
  });

  it('ENTRYPOINT and AIRBYTE_ENTRYPOINT are the same command', () => {
    const entrypoint = ((info.Config.Entrypoint as string[] | null) ?? []).join(' ');
    const env = (info.Config.Env as string[]) ?? [];
    const airbyte = env.find((e) => e.startsWith('AIRBYTE_ENTRYPOINT='))?.slice(19);
    expect(entrypoint).not.toBe('');
    expect(airbyte).toBe(entrypoint);
  });

  it('the image adds less than 50 MB to node:20-bookworm-slim', async () => {
    // README "Build": the layers above the base are 37 MB (production node_modules, lib/,
    // resources/); dev dependencies or the TypeScript compiler would add about 100 MB more.
    const size = info.Size as number;
    const base = (await inspectImage(BASE)).Size as number;
    note(
      `runtime image: ${mb(size)} MB; ${BASE} base: ${mb(base)} MB; added by this Dockerfile: ${mb(size - base)} MB`,
    );
    const history = await must('podman', [
      'history',
      '--format',
      '{{.Size}}\t{{.CreatedBy}}',
      IMAGE,
    ]);
    note('layers above the base (podman history):');
    for (const line of history.split('\n')) {
      const [layer, createdBy = ''] = line.split('\t');
      if (layer && layer !== '0 B' && !/ADD file:/.test(createdBy)) {
        note(`  ${layer.padEnd(10)} ${createdBy.slice(0, 90)}`);
      }
    }
    expect(size - base).toBeLessThan(50_000_000);
  });
});

describe('image contents', () => {
  // One container lists everything that should not be there, one tagged line per finding.
  const findings = once(async () => {
    const devOnly = devOnlyPackages();
    fs.writeFileSync(path.join(work.dir, 'dev-only.txt'), devOnly.join('\n') + '\n');
    fs.writeFileSync(
      path.join(work.dir, 'inspect.sh'),
      [
        'set -eu',
        'cd /app',
        'touch /airbyte/.writable && rm /airbyte/.writable || echo "not-writable /airbyte"',
        `find . -path ./node_modules -prune -o \\( -name '*.ts' -o -name '*.map' -o -name '*.test.*' \\) -exec echo "source-file {}" \\;`,
        'for d in src test bench snowflake scripts integration_tests simulator lib/simulator lib/scripts node_modules/orchestra-api-simulator .git secrets; do [ ! -e "$d" ] || echo "folder $d"; done',
        'grep -rlF startSimulator lib | sed "s/^/simulator-code /" || true',
        'while read -r p; do [ -z "$p" ] || [ ! -e "node_modules/$p" ] || echo "dev-package node_modules/$p"; done </dev-only.txt',
      ].join('\n') + '\n',
    );
    await openToContainer(work.dir);
    const out = await must('podman', [
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      '/bin/sh',
      '-v',
      `${path.join(work.dir, 'inspect.sh')}:/inspect.sh:ro`,
      '-v',
      `${path.join(work.dir, 'dev-only.txt')}:/dev-only.txt:ro`,
      IMAGE,
      '/inspect.sh',
    ]);
    return { lines: out.split('\n').filter(Boolean), devOnly };
  });
  const found = async (kind: string): Promise<string[]> =>
    (await findings()).lines
      .filter((l) => l.startsWith(`${kind} `))
      .map((l) => l.slice(kind.length + 1));

  it('/airbyte is writable by the node user', async () => {
    expect(await found('not-writable')).toEqual([]);
  });

  it('no TypeScript sources, source maps or test files outside node_modules', async () => {
    expect(await found('source-file')).toEqual([]);
  });

  it('no sources, tests, bench, Snowflake code, simulator, demo, git history or secrets', async () => {
    expect(await found('folder')).toEqual([]);
  });

  it('the compiled connector does not carry the simulator', async () => {
    expect(await found('simulator-code')).toEqual([]);
  });

  it('dev-only packages are not in the runtime image', async () => {
    const { devOnly } = await findings();
    expect(devOnly.length).toBeGreaterThan(100); // the lockfile was read (TypeScript, jest, eslint...)
    expect(await found('dev-package')).toEqual([]);
    note(
      `no TypeScript, source maps, tests, simulator, demo or dev-only packages (${devOnly.length} checked)`,
    );
  });
});

describe('the build context', () => {
  it('the build context leaves tests, secrets and local builds out (the .dockerignore allow-list)', async () => {
    // What `docker build .` sends: every file the .dockerignore lets through, listed inside a build.
    const dockerfile = path.join(work.dir, 'context.Dockerfile');
    fs.writeFileSync(
      dockerfile,
      `FROM ${BASE}\nCOPY . /context\nRUN cd /context && find . -type f | sort >/context-files.txt\n`,
    );
    // A tag of its own: another checkout may build the same kind of image on this podman.
    const tag = `localhost/docker-test-context:${process.pid}-${Date.now()}`;
    await must('podman', ['build', '-q', '-t', tag, '-f', dockerfile, '.']);
    let files: string[];
    try {
      const listed = await must('podman', [
        'run',
        '--rm',
        '--network',
        'none',
        '--entrypoint',
        'cat',
        tag,
        '/context-files.txt',
      ]);
      files = listed.split('\n').filter(Boolean);
    } finally {
      await run('podman', ['rmi', tag]);
    }
    const allowed =
      /^\.\/(package\.json|package-lock\.json|tsconfig\.json|tsconfig\.build\.json|bin\/main|docker\/entrypoint\.sh|resources\/.+|src\/.+)$/;
    const outside = files.filter((f) => !allowed.test(f));
    const tests = files.filter((f) => /\.(test|spec)\.ts$|\/__tests__\/|\/secrets\//.test(f));
    expect(files).toContain('./bin/main');
    expect([...outside, ...tests]).toEqual([]);
    note(
      `${files.length} files in the build context: package*.json, tsconfig*.json, bin/main, docker/entrypoint.sh, resources/, src/`,
    );
  });
});

describe('the entrypoint', () => {
  // A stand-in for bin/main that reports how the entrypoint started Node.
  const heapProbe = once(async () => {
    const file = path.join(work.dir, 'heap-probe.js');
    fs.writeFileSync(
      file,
      `#!/usr/bin/env node
const v8 = require('v8');
process.stdout.write(JSON.stringify({ type: 'LOG', log: { level: 'INFO', message: JSON.stringify({
  execArgv: process.execArgv, heapMiB: Math.round(v8.getHeapStatistics().heap_size_limit / 1048576) }) } }) + '\\n');
`,
    );
    const v2 = (name: string, content: string): string => {
      const f = path.join(work.dir, `memory.max.${name}`);
      fs.writeFileSync(f, content);
      return f;
    };
    const files = {
      probe: file,
      cgroup256m: v2('256m', '268435456\n'),
      cgroupMax: v2('none', 'max\n'),
    };
    await openToContainer(work.dir);
    return files;
  });
  interface Probe {
    execArgv: string[];
    heapMiB: number;
    stdout: string;
  }
  const probe = async (label: string, ...podmanArgs: string[]): Promise<Probe> => {
    const files = await heapProbe();
    const out = await must('podman', [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${files.probe}:/app/bin/main:ro`,
      ...podmanArgs,
      IMAGE,
      'spec',
    ]);
    const lines = out.split('\n').filter(Boolean);
    const msg = JSON.parse(lines[lines.length - 1]) as Msg;
    note(`${label.padEnd(18)} -> ${msg.log.message}`);
    return { ...(JSON.parse(msg.log.message) as Omit<Probe, 'stdout'>), stdout: out };
  };
  const heapFlags = (p: Probe): string[] =>
    p.execArgv.filter((a) => a.startsWith('--max-old-space-size'));

  it('the entrypoint sizes the heap at 75% of a --memory limit and prints nothing itself', async () => {
    const p = await probe('--memory=512m', '--memory=512m');
    expect(p.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(heapFlags(p)).toEqual(['--max-old-space-size=384']);
  });

  it('without a memory limit Node keeps its default heap', async () => {
    expect(heapFlags(await probe('no limit'))).toEqual([]);
  });

  it('NODE_OPTIONS=--max-old-space-size wins over the computed heap', async () => {
    const p = await probe(
      'NODE_OPTIONS',
      '--memory=512m',
      '-e',
      'NODE_OPTIONS=--max-old-space-size=200',
    );
    expect(heapFlags(p)).toEqual([]);
    expect(p.heapMiB).toBeLessThan(300);
  });

  // This machine has cgroup v1; cgroup v2 (most current hosts) is checked with a stand-in memory.max.
  it('the entrypoint sizes the heap from a cgroup v2 memory.max', async () => {
    const { cgroup256m } = await heapProbe();
    const p = await probe('cgroup v2 256 MiB', '-v', `${cgroup256m}:/sys/fs/cgroup/memory.max:ro`);
    expect(heapFlags(p)).toEqual(['--max-old-space-size=192']);
  });

  it("a cgroup v2 memory.max of 'max' leaves Node's default heap", async () => {
    const { cgroupMax } = await heapProbe();
    const p = await probe('cgroup v2 max', '-v', `${cgroupMax}:/sys/fs/cgroup/memory.max:ro`);
    expect(heapFlags(p)).toEqual([]);
  });

  // A stand-in for bin/main that runs until stopped, or exits with the status it is given.
  const sleeper = once(async () => {
    const file = path.join(work.dir, 'sleeper.js');
    fs.writeFileSync(
      file,
      `#!/usr/bin/env node
if (process.argv[2] === 'exit') process.exit(Number(process.argv[3]));
setTimeout(() => {}, 600000);
`,
    );
    await openToContainer(work.dir);
    return file;
  });

  it("the container exits with Node's exit status", async () => {
    const file = await sleeper();
    const r = await run('podman', [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${file}:/app/bin/main:ro`,
      IMAGE,
      'exit',
      '3',
    ]);
    expect(r.code).toBe(3);
  });

  it.each([
    ['TERM', 143],
    ['INT', 130],
  ])(
    'SIG%s reaches the connector within 5 s and its exit status (%i) is kept',
    async (sig, status) => {
      const file = await sleeper();
      const cid = (
        await must('podman', [
          'run',
          '-d',
          '--network',
          'none',
          '-v',
          `${file}:/app/bin/main:ro`,
          IMAGE,
          'read',
        ])
      ).trim();
      try {
        await new Promise((r) => setTimeout(r, 1000)); // Node has started and the traps are set
        const t0 = Date.now();
        await must('podman', ['kill', '-s', sig, cid]);
        const waited = await run('podman', ['wait', cid], { timeoutMs: 20_000 });
        const took = Date.now() - t0;
        if (waited.code !== 0) throw new Error(`SIG${sig} did not end the container within 20 s`);
        note(`SIG${sig} ends a run in ${(took / 1000).toFixed(1)}s (exit ${waited.stdout.trim()})`);
        expect(took).toBeLessThan(5000);
        expect(Number(waited.stdout.trim())).toBe(status);
      } finally {
        await run('podman', ['rm', '-f', cid]);
      }
    },
  );
});

function mb(bytes: number): number {
  return Math.round(bytes / 1_000_000);
}

/** Dev-only packages per the lockfile (TypeScript among them, dev or optional), top level only. */
function devOnlyPackages(): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([k, v]) => (v.dev || v.devOptional) && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(k))
    .map(([k]) => k.slice('node_modules/'.length));
}
