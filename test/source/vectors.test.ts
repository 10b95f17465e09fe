import {
  expected,
  loadVectors,
  project,
  runCase,
  ScriptedApi,
  VectorCase,
} from '../helpers/vector-harness';

/**
 * The shared algorithm vectors (test/vectors/) against the Airbyte source's engine; the Snowflake
 * app's engine runs the same files in snowflake/tests/test_vectors.py.
 */
const cases = loadVectors();
const api = new ScriptedApi();
let baseUrl = '';

beforeAll(async () => {
  baseUrl = await api.start();
});
afterAll(() => api.close());

it('finds the vector files', () => {
  expect(new Set(cases.map((c) => c.file))).toEqual(
    new Set([
      'dedupe.json',
      'http.json',
      'pages.json',
      'plan.json',
      'refetch.json',
      'windows.json',
    ]),
  );
});

describe.each([...new Set(cases.map((c) => c.file))])('%s', (file) => {
  it.each(cases.filter((c) => c.file === file).map((c): [string, VectorCase] => [c.name, c]))(
    '%s',
    async (_name, c) => {
      const outcome = await runCase(c, api, baseUrl);
      expect(project(c, outcome)).toEqual(expected(c));
    },
  );
});
