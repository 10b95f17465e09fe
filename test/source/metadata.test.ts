import fs from 'fs';
import path from 'path';
import YAML from 'yaml';

import { loadSpec } from '../../src/config';
import { dockerfileLabels, MetadataInputs, metadataProblems } from '../helpers/airbyte-metadata';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');
const ACCEPTANCE_CONFIGS = [
  'acceptance-test-config.yml',
  'integration_tests/cat-0.11.5/acceptance-test-config.yml',
];

function committed(): MetadataInputs {
  const spec = loadSpec().connectionSpecification.properties as Record<
    string,
    { default?: string }
  >;
  return {
    metadata: YAML.parse(read('metadata.yaml')),
    dockerfile: read('Dockerfile'),
    packageVersion: (JSON.parse(read('package.json')) as { version: string }).version,
    connectorImages: ACCEPTANCE_CONFIGS.map(
      (f) => (YAML.parse(read(f)) as { connector_image: string }).connector_image,
    ),
    defaultApiUrl: spec.api_url.default as string,
  };
}

/** A deep copy of the committed inputs with metadata.yaml's data changed. */
function withData(change: Record<string, unknown>): MetadataInputs {
  const inputs = committed();
  const metadata = structuredClone(inputs.metadata) as { data: Record<string, unknown> };
  Object.assign(metadata.data, change);
  return { ...inputs, metadata };
}

describe('metadata.yaml (Airbyte connector metadata)', () => {
  it('is in Airbyte metadata format and agrees with the Dockerfile labels, package.json and the acceptance configs', () => {
    expect(metadataProblems(committed())).toEqual([]);
  });

  it('names the image the Dockerfile labels and the version package.json has', () => {
    const inputs = committed();
    const data = (inputs.metadata as { data: Record<string, string> }).data;
    const labels = dockerfileLabels(inputs.dockerfile);
    expect(labels['io.airbyte.name']).toBe(data.dockerRepository);
    expect(labels['io.airbyte.version']).toBe(inputs.packageVersion);
    expect(data.dockerImageTag).toBe(inputs.packageVersion);
  });

  // Each rule, broken on purpose: the check must catch it.
  it.each<[string, () => MetadataInputs, RegExp]>([
    [
      'a tag that is not package.json version',
      () => withData({ dockerImageTag: '9.9.9' }),
      /LABEL io\.airbyte\.version is 0\.1\.0 but .*dockerImageTag is 9\.9\.9/,
    ],
    [
      'a repository the Dockerfile does not label',
      () => withData({ dockerRepository: 'airbyte/source-orchestra' }),
      /io\.airbyte\.name is source-orchestra but .*dockerRepository is airbyte\/source-orchestra/,
    ],
    [
      'a Dockerfile label left behind on a version bump',
      () => ({
        ...committed(),
        dockerfile: read('Dockerfile').replace(
          /io\.airbyte\.version="[^"]*"/,
          'io.airbyte.version="0.0.9"',
        ),
      }),
      /LABEL io\.airbyte\.version is 0\.0\.9/,
    ],
    [
      'package.json bumped alone',
      () => ({ ...committed(), packageVersion: '0.2.0' }),
      /package\.json version is 0\.2\.0/,
    ],
    [
      'an acceptance config testing another image',
      () => ({ ...committed(), connectorImages: ['airbyte/source-other:dev'] }),
      /connector_image airbyte\/source-other:dev/,
    ],
    [
      'a definitionId that is not a UUID',
      () => withData({ definitionId: 'orchestra' }),
      /definitionId must be a UUID/,
    ],
    [
      'a missing required field',
      () => withData({ githubIssueLabel: undefined }),
      /githubIssueLabel is required/,
    ],
    [
      'an unknown field',
      () => withData({ dockerTag: '0.1.0' }),
      /data\.dockerTag is not a metadata field/,
    ],
    [
      'a release stage outside the enum',
      () => withData({ releaseStage: 'preview' }),
      /releaseStage must be one of/,
    ],
    [
      'a support level outside the enum',
      () => withData({ supportLevel: 'gold' }),
      /supportLevel must be one of/,
    ],
    ['no language tag', () => withData({ tags: ['cdk:faros'] }), /language:typescript/],
    [
      'allowed hosts without the API host',
      () => withData({ allowedHosts: { hosts: ['getorchestra.io'] } }),
      /allowedHosts\.hosts must list app\.getorchestra\.io/,
    ],
  ])('catches %s', (_name, inputs, message) => {
    const problems = metadataProblems(inputs());
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });
});
