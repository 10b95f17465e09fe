import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';

/** A link or a cited document that does not resolve to a file of the repository. */
export interface BrokenReference {
  file: string;
  line: number;
  target: string;
  why: string;
}

const TEXT_FILE = /(\.(md|ts|js|mjs|py|sql|ya?ml|sh|toml|txt)|Dockerfile|\.dockerignore)$/;
/** Copies of external documents: their references point into the projects they come from. */
const EXTERNAL = /^contracts\//;
const MARKDOWN_LINK = /\[[^\]\n]*\]\(([^)\s]+)\)/g;
/** A document named in prose or a comment: `docs/x.md`, `../README.md`, `NOTES.md`. */
const CITED_DOC = /(?<![\w/.@-])((?:\.{1,2}\/)*[\w-][\w./-]*\.md)\b/g;

/** Files of the repository, tracked or new (but not ignored), that can hold references. */
export function repositoryTextFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((f) => f && TEXT_FILE.test(f) && !EXTERNAL.test(f))
    .filter((f) => fs.existsSync(path.join(root, f)));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const m = !inFence && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) anchors.add(headingAnchor(m[1]));
  }
  return anchors;
}

/**
 * Every relative Markdown link (and its #anchor) and every cited `*.md` document in the given
 * files must resolve inside `root`. A cited name resolves beside the citing file, at the root or
 * under docs/; links resolve beside the linking file only, as a Markdown viewer resolves them.
 */
export function findBrokenReferences(root: string, files: readonly string[]): BrokenReference[] {
  const broken: BrokenReference[] = [];
  const inRepo = (p: string): boolean =>
    !path.relative(root, p).startsWith('..') && fs.existsSync(p);
  for (const file of files) {
    const dir = path.dirname(path.join(root, file));
    const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
    lines.forEach((text, i) => {
      const report = (target: string, why: string): void => {
        broken.push({ file, line: i + 1, target, why });
      };
      if (file.endsWith('.md')) {
        for (const [, target] of text.matchAll(MARKDOWN_LINK)) {
          if (/^[a-z]+:/i.test(target)) continue; // http:, https:, mailto:
          const [ref, anchor] = target.split('#', 2);
          const resolved = ref ? path.resolve(dir, ref) : path.join(root, file);
          if (!inRepo(resolved)) {
            report(target, 'link to a file that is not in the repository');
          } else if (anchor && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
            report(target, `no heading with anchor #${anchor}`);
          }
        }
      }
      // In Markdown, link targets were checked above; what remains is prose.
      const prose = file.endsWith('.md') ? text.replace(MARKDOWN_LINK, '') : text;
      for (const [, cited] of prose.matchAll(CITED_DOC)) {
        const candidates = [path.resolve(dir, cited), path.resolve(root, cited)];
        if (!cited.includes('/')) candidates.push(path.join(root, 'docs', cited));
        if (!candidates.some(inRepo))
          report(cited, 'cites a document that is not in the repository');
      }
    });
  }
  return broken;
}
