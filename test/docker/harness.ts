/**
 * What the Docker tests share: the README's recipes, podman and bash as subprocesses, the work folder,
 * and the comparisons between the image and bin/main on the host. The image is built by
 * scripts/docker-smoke.sh (the README's build recipe) before these tests run.
 */
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

import { Msg } from '../helpers/messages';

export const ROOT = path.resolve(__dirname, '..', '..');
/** SMOKE_WRITE_FIXTURES=1 regenerates the acceptance-test inputs under integration_tests/. */
export const WRITE_FIXTURES = process.env.SMOKE_WRITE_FIXTURES === '1';
/** The recipes CI runs; the README must mark each with `<!-- smoke: NAME -->`. */
export const RECIPE_NAMES = [
  'build',
  'spec',
  'check',
  'discover',
  'catalog',
  'read',
  'save-state',
  'read-incremental',
  'cat-simulator',
] as const;
export type RecipeName = (typeof RECIPE_NAMES)[number];

/** Progress for the CI log (sizes, counts, timings); jest's console adds a stack to each line. */
export function note(line: string): void {
  process.stderr.write(`    ${line}\n`);
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end (never throws for a non-zero exit); kills it after timeoutMs. */
export function run(
  file: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd: opts.cwd ?? ROOT,
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 300_000,
        killSignal: 'SIGKILL',
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        let code = 0;
        if (error) code = typeof error.code === 'number' ? error.code : error.killed ? 137 : 1;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** Like run, but a non-zero exit is an error carrying the command and the end of its output. */
export async function must(
  file: string,
  args: readonly string[],
  opts: Parameters<typeof run>[2] = {},
): Promise<string> {
  const r = await run(file, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `${file} ${args.join(' ')} exited ${r.code}: ${tail(r.stderr || r.stdout, 20)}`,
    );
  }
  return r.stdout;
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n').slice(-4000);
}

/** A private work folder per test file; kept with SMOKE_KEEP=1 or when a test failed. */
export function workFolder(label: string): { dir: string; done: (failed?: boolean) => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `docker-${label}.`));
  return {
    dir,
    done: (failed = false) => {
      if (process.env.SMOKE_KEEP === '1' || failed) note(`work folder kept: ${dir}`);
      else fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The image runs as uid 1000: what it reads must be readable by anyone (mkdtemp is private). */
export function openToContainer(dir: string): Promise<string> {
  return must('chmod', ['-R', 'a+rX', dir]);
}

/** The `<!-- smoke: NAME -->` recipes of the README: each is the fenced block after its marker. */
export function readmeRecipes(): Map<string, string> {
  const recipes = new Map<string, string>();
  let name: string | undefined;
  let body: string[] | undefined;
  for (const line of fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n')) {
    const marker = /^<!-- smoke: ([a-z-]+) -->$/.exec(line);
    if (marker) {
      name = marker[1];
    } else if (name !== undefined && body === undefined && line.startsWith('```')) {
      body = [];
    } else if (body !== undefined && line.startsWith('```')) {
      recipes.set(name as string, body.join('\n') + '\n');
      name = body = undefined;
    } else if (body !== undefined) {
      body.push(line);
    }
  }
  return recipes;
}

export function recipe(name: RecipeName): string {
  const text = readmeRecipes().get(name);
  if (!text?.trim()) throw new Error(`README.md has no '<!-- smoke: ${name} -->' recipe`);
  return text;
}

/** The tag the README's build recipe gives the image (the one the run recipes use). */
export function imageTag(): string {
  const build = recipe('build');
  const tag = /^docker build .*-t (\S+) .*/m.exec(build)?.[1];
  if (!tag) throw new Error(`cannot read the image tag from the README's build recipe: ${build}`);
  return tag;
}

export type Mode = 'container' | 'host';

/**
 * Runs a README recipe with bash in `cwd`: in the container (`docker` is podman) or on the host
 * (`docker run` is bin/main; test/docker/docker-shim.sh).
 */
export function runRecipe(mode: Mode, name: RecipeName, cwd: string): Promise<Ran> {
  const script = `source ${shellQuote(path.join(__dirname, 'docker-shim.sh'))}\n${recipe(name)}`;
  return run('bash', ['-o', 'pipefail', '-c', script], {
    cwd,
    env: { ...process.env, DOCKER_SHIM: mode, ROOT },
  });
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Lines of stdout that are not Airbyte messages (a JSON object with a string `type`): stdout is the
 * protocol channel, so anything else there breaks the platform's reader.
 */
export function notMessages(stdout: string): string[] {
  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.filter((line) => {
    try {
      const m: unknown = JSON.parse(line);
      return !(
        typeof m === 'object' &&
        m !== null &&
        !Array.isArray(m) &&
        typeof (m as Msg).type === 'string'
      );
    } catch {
      return true;
    }
  });
}

export function assertOnlyMessages(stdout: string, label: string): void {
  const bad = notMessages(stdout);
  if (bad.length > 0) {
    throw new Error(
      `${label}: stdout carries lines that are not Airbyte messages: ${bad.slice(0, 3).join(' | ')}`,
    );
  }
}

/**
 * What must be identical between the image and the host: every message but its emitted_at, and LOG
 * lines up to durations ("1.2s", "35 ms"), which vary from run to run.
 */
export function comparable(jsonl: string): string[] {
  return jsonl
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const m = JSON.parse(line) as Msg;
      if (m.record) delete m.record.emitted_at;
      if (m.trace) delete m.trace.emitted_at;
      if (m.type === 'LOG' && typeof m.log?.message === 'string') {
        m.log.message = m.log.message.replace(/[0-9]+(\.[0-9]+)? ?(ms|s|seconds)\b/g, '<duration>');
      }
      return JSON.stringify(m);
    });
}

/** The lines in which two outputs differ, for a failure message that shows them (- host, + image). */
export function lineDiff(host: string[], image: string[], max = 20): string {
  const out: string[] = [];
  const n = Math.max(host.length, image.length);
  for (let i = 0; i < n && out.length < max; i++) {
    if (host[i] === image[i]) continue;
    if (host[i] !== undefined) out.push(`- [${i + 1}] ${host[i].slice(0, 400)}`);
    if (image[i] !== undefined) out.push(`+ [${i + 1}] ${image[i].slice(0, 400)}`);
  }
  return `${host.length} host lines, ${image.length} image lines; first differences:\n${out.join('\n')}`;
}

/** JSON with sorted keys: equality that ignores key order, as `jq -S` does. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** A step that runs once, however many tests need it (so that `-t NAME` runs what a test needs). */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

export async function inspectImage(tag: string): Promise<Msg> {
  const [info] = JSON.parse(await must('podman', ['image', 'inspect', tag])) as Msg[];
  return info;
}

export async function prettierWrite(file: string): Promise<void> {
  await must(path.join(ROOT, 'node_modules', '.bin', 'prettier'), [
    '--log-level',
    'warn',
    '--write',
    file,
  ]);
}
