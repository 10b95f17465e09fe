/**
 * Checks of metadata.yaml against Airbyte's connector metadata format and against the files that
 * must agree with it. The format's facts (required keys, enums) are those of Airbyte's
 * ConnectorMetadataDefinitionV0 schema:
 * https://github.com/airbytehq/airbyte/blob/master/airbyte-ci/connectors/metadata_service/lib/metadata_service/models/src/ConnectorMetadataDefinitionV0.yaml
 * (with ReleaseStage.yaml, SupportLevel.yaml and AllowedHosts.yaml beside it).
 */

const REQUIRED = [
  'name',
  'definitionId',
  'connectorType',
  'dockerRepository',
  'dockerImageTag',
  'license',
  'documentationUrl',
  'githubIssueLabel',
  'connectorSubtype',
  'releaseStage',
];

/** Keys of `data` the schema defines; it allows no others. */
const KNOWN = new Set([
  ...REQUIRED,
  'icon',
  'connectorBuildOptions',
  'supportsDbt',
  'supportsNormalization',
  'maxSecondsBetweenMessages',
  'releaseDate',
  'protocolVersion',
  'supportLevel',
  'tags',
  'registries',
  'registryOverrides',
  'allowedHosts',
  'releases',
  'normalizationConfig',
  'suggestedStreams',
  'resourceRequirements',
  'ab_internal',
  'remoteRegistries',
  'connectorTestSuitesOptions',
]);

const ENUMS: Record<string, string[]> = {
  connectorType: ['source', 'destination'],
  connectorSubtype: [
    'api',
    'database',
    'datalake',
    'file',
    'custom',
    'message_queue',
    'unknown',
    'vectorstore',
  ],
  releaseStage: ['alpha', 'beta', 'generally_available', 'custom'],
  supportLevel: ['community', 'certified', 'enterprise', 'archived'],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** LABEL key=value pairs of a Dockerfile (continuation lines joined, quotes removed). */
export function dockerfileLabels(dockerfile: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const joined = dockerfile.replace(/\\\r?\n/g, ' ');
  for (const line of joined.split('\n')) {
    const m = /^\s*LABEL\s+(.*)$/i.exec(line);
    if (!m) continue;
    for (const pair of m[1].matchAll(/([\w.-]+)=("([^"]*)"|(\S+))/g)) {
      labels[pair[1]] = pair[3] ?? pair[4];
    }
  }
  return labels;
}

export interface MetadataInputs {
  /** metadata.yaml, parsed. */
  metadata: unknown;
  dockerfile: string;
  packageVersion: string;
  /** connector_image of every acceptance-test-config.yml. */
  connectorImages: string[];
  /** Default api_url of the spec: its host must be allowed. */
  defaultApiUrl: string;
}

/** Every disagreement, as a readable sentence naming the file and field; empty when all agree. */
export function metadataProblems(inputs: MetadataInputs): string[] {
  const problems: string[] = [];
  const root = inputs.metadata as Record<string, unknown> | null;
  if (typeof root !== 'object' || root === null) return ['metadata.yaml is not a YAML mapping'];
  if (typeof root.metadataSpecVersion !== 'string') {
    problems.push('metadata.yaml: metadataSpecVersion must be a string such as "1.0"');
  }
  for (const key of Object.keys(root)) {
    if (key !== 'data' && key !== 'metadataSpecVersion') {
      problems.push(`metadata.yaml: unknown top-level key ${key}`);
    }
  }
  const data = root.data as Record<string, unknown> | undefined;
  if (typeof data !== 'object' || data === null) return [...problems, 'metadata.yaml has no data'];
  for (const key of REQUIRED) {
    if (typeof data[key] !== 'string' || data[key] === '') {
      problems.push(`metadata.yaml: data.${key} is required (a non-empty string)`);
    }
  }
  for (const key of Object.keys(data)) {
    if (!KNOWN.has(key)) problems.push(`metadata.yaml: data.${key} is not a metadata field`);
  }
  for (const [key, allowed] of Object.entries(ENUMS)) {
    if (data[key] !== undefined && !allowed.includes(data[key] as string)) {
      problems.push(`metadata.yaml: data.${key} must be one of ${allowed.join(', ')}`);
    }
  }
  if (data.connectorType !== 'source') problems.push('metadata.yaml: data.connectorType: source');
  if (data.connectorSubtype !== 'api') problems.push('metadata.yaml: data.connectorSubtype: api');
  if (typeof data.definitionId === 'string' && !UUID.test(data.definitionId)) {
    problems.push('metadata.yaml: data.definitionId must be a UUID');
  }
  try {
    new URL(String(data.documentationUrl));
  } catch {
    problems.push('metadata.yaml: data.documentationUrl must be a URL');
  }
  const tags = data.tags;
  if (!Array.isArray(tags) || !tags.includes('language:typescript')) {
    problems.push('metadata.yaml: data.tags must include language:typescript');
  }
  const hosts = (data.allowedHosts as { hosts?: unknown } | undefined)?.hosts;
  const apiHost = new URL(inputs.defaultApiUrl).host;
  if (!Array.isArray(hosts) || !hosts.includes(apiHost)) {
    problems.push(`metadata.yaml: data.allowedHosts.hosts must list ${apiHost}, the API's host`);
  }

  const labels = dockerfileLabels(inputs.dockerfile);
  if (labels['io.airbyte.name'] !== data.dockerRepository) {
    problems.push(
      `Dockerfile LABEL io.airbyte.name is ${labels['io.airbyte.name']} but metadata.yaml ` +
        `data.dockerRepository is ${String(data.dockerRepository)}`,
    );
  }
  if (labels['io.airbyte.version'] !== data.dockerImageTag) {
    problems.push(
      `Dockerfile LABEL io.airbyte.version is ${labels['io.airbyte.version']} but metadata.yaml ` +
        `data.dockerImageTag is ${String(data.dockerImageTag)}`,
    );
  }
  if (inputs.packageVersion !== data.dockerImageTag) {
    problems.push(
      `package.json version is ${inputs.packageVersion} but metadata.yaml data.dockerImageTag is ` +
        `${String(data.dockerImageTag)}`,
    );
  }
  for (const image of inputs.connectorImages) {
    const repository = image.replace(/:[^:/]+$/, '');
    if (repository !== data.dockerRepository) {
      problems.push(
        `acceptance-test-config.yml connector_image ${image} is not an image of ` +
          `${String(data.dockerRepository)} (metadata.yaml data.dockerRepository)`,
      );
    }
  }
  return problems;
}
