import fs from 'fs';
import os from 'os';
import path from 'path';

import { findBrokenReferences, headingAnchor, repositoryTextFiles } from '../helpers/references';

const ROOT = path.resolve(__dirname, '../..');
/** The check's own code and tests, whose examples name missing documents on purpose. */
const OWN_EXAMPLES = new Set(['test/docs/references.test.ts', 'test/helpers/references.ts']);

describe('the repository stands on its own', () => {
  it('every relative link and every cited document exists in the repository', () => {
    const files = repositoryTextFiles(ROOT).filter((f) => !OWN_EXAMPLES.has(f));
    expect(files.length).toBeGreaterThan(50);
    const broken = findBrokenReferences(ROOT, files).map(
      (b) => `${b.file}:${b.line}: ${b.target} (${b.why})`,
    );
    expect(broken).toEqual([]);
  });
});

describe('the reference check', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'refs-'));
    fs.mkdirSync(path.join(dir, 'docs'));
    fs.writeFileSync(path.join(dir, 'docs', 'guide.md'), '# Guide\n\n## Set the key\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const check = (file: string, text: string): string[] => {
    fs.writeFileSync(path.join(dir, file), text);
    return findBrokenReferences(dir, [file]).map((b) => b.target);
  };

  it('accepts links and citations that resolve, anchors included', () => {
    expect(check('README.md', 'See [the guide](docs/guide.md#set-the-key).\n')).toEqual([]);
    expect(check('a.ts', '// the algorithm: see docs/guide.md and guide.md\n')).toEqual([]);
  });

  it('reports a link to a missing file', () => {
    expect(check('README.md', 'See [design](docs/design.md).\n')).toEqual(['docs/design.md']);
  });

  it('reports a link to a missing heading', () => {
    expect(check('README.md', '[x](docs/guide.md#install)\n')).toEqual(['docs/guide.md#install']);
  });

  it('reports a document cited in a comment that is not in the repository', () => {
    expect(check('b.py', '"""The algorithm of PLAN.md."""\n')).toEqual(['PLAN.md']);
  });

  it('reports a link that leaves the repository', () => {
    expect(check('README.md', '[api](../elsewhere/API.md)\n')).toEqual(['../elsewhere/API.md']);
  });

  it('ignores web links', () => {
    expect(check('README.md', '[docs](https://docs.snowflake.com/x.md)\n')).toEqual([]);
  });

  it('builds anchors the way GitHub does', () => {
    expect(headingAnchor("Airbyte's acceptance tests")).toBe('airbytes-acceptance-tests');
    expect(headingAnchor('Docker: build, `docker run`')).toBe('docker-build-docker-run');
  });
});
