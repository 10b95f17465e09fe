import fs from 'fs';
import path from 'path';

import { loadSpec } from '../../src/config';

describe('the configuration reference in README.md', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
  const doc = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n## How a sync'));
  const rows = new Map(
    doc
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => [/^\| `([a-z_]+)`/.exec(l)?.[1] ?? '', l]),
  );
  const props = loadSpec().connectionSpecification.properties as Record<
    string,
    Record<string, unknown>
  >;

  it('documents exactly the options of the spec', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(props).sort());
  });

  it.each(Object.entries(props))(
    'states the default and range of %s as the spec does',
    (name, prop) => {
      const row = rows.get(name) ?? '';
      if (prop.default !== undefined) {
        const shown = Array.isArray(prop.default)
          ? JSON.stringify(prop.default)
          : String(prop.default);
        expect(row).toContain(`\`${shown}\``);
      }
      if (prop.minimum !== undefined) expect(row).toContain(`${prop.minimum} to ${prop.maximum}`);
    },
  );
});
