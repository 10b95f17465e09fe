import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

import { ConfigError } from './errors';
import { readResourceJson } from './resources';

/** The connector's configuration, mirroring resources/spec.json (a test keeps the two in step). */
export interface OrchestraConfig {
  api_key: string;
  account_id?: string;
  start_date?: string;
  pipeline_ids: string[];
  environments: string[];
  include_superseded: boolean;
  lookback_hours: number;
  window_hours: number;
  page_size: number;
  requests_per_minute: number;
  pages_in_flight: number;
  request_timeout_seconds: number;
  retry_budget_seconds: number;
  api_url: string;
}

interface PropertySchema {
  title?: string;
  type?: string;
  minimum?: number;
  maximum?: number;
  examples?: unknown[];
  format?: string;
}

const FORMAT_NAMES: Record<string, string> = {
  uuid: 'a UUID',
  'date-time': 'an ISO 8601 date-time',
  uri: 'an http(s) URL',
};

export interface ConnectorSpec {
  documentationUrl: string;
  connectionSpecification: {
    required: string[];
    properties: Record<string, PropertySchema>;
  } & Record<string, unknown>;
  [key: string]: unknown;
}

let cachedSpec: ConnectorSpec | undefined;
let cachedValidator: ValidateFunction | undefined;

export function loadSpec(): ConnectorSpec {
  cachedSpec ??= readResourceJson<ConnectorSpec>('spec.json');
  return cachedSpec;
}

function validator(): ValidateFunction {
  if (!cachedValidator) {
    // Airbyte's own spec keywords (order, airbyte_secret, ...) are annotations, not validation.
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
    addFormats(ajv);
    cachedValidator = ajv.compile(loadSpec().connectionSpecification);
  }
  return cachedValidator;
}

/** Airbyte UIs send "" for optional fields left blank; treat that as "not set". */
const OPTIONAL_STRINGS = ['account_id', 'start_date'];

/**
 * Validates a raw config object against spec.json, applies the spec's defaults and returns the
 * typed config. Every invalid field is named in one ConfigError message.
 */
export function parseConfig(raw: unknown): OrchestraConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      'The config must be a JSON object such as {"api_key": "..."}; check the config file.',
    );
  }
  const config: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const key of OPTIONAL_STRINGS) {
    if (typeof config[key] === 'string' && (config[key] as string).trim() === '')
      delete config[key];
  }
  const validate = validator();
  if (!validate(config)) {
    const problems = describeErrors(validate.errors ?? [], config);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}.`, {
      info: { fields: problems.length },
    });
  }
  const typed = config as unknown as OrchestraConfig;
  typed.api_url = typed.api_url.replace(/\/+$/, '');
  return typed;
}

function fieldOf(error: ErrorObject): string {
  if (error.keyword === 'required') {
    return (error.params as { missingProperty: string }).missingProperty;
  }
  const parts = error.instancePath.split('/').filter(Boolean);
  return parts[0] ?? '(root)';
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeErrors(errors: ErrorObject[], config: Record<string, unknown>): string[] {
  const byField = new Map<string, ErrorObject>();
  for (const error of errors) {
    const field = fieldOf(error);
    // The first error per field is the most specific one ajv found (type before range).
    if (!byField.has(field)) byField.set(field, error);
  }
  const properties = loadSpec().connectionSpecification.properties;
  return [...byField.entries()].map(([field, error]) => {
    const prop = properties[field] ?? {};
    const label = `\`${field}\``;
    // Never echo the API key back, even when it is the invalid field.
    const got = field === 'api_key' ? '' : `, got ${show(config[field])}`;
    const example = prop.examples?.length ? ` such as ${JSON.stringify(prop.examples[0])}` : '';
    if (error.instancePath.split('/').filter(Boolean).length > 1) {
      if (error.keyword === 'pattern' || error.keyword === 'format') {
        return `${label} must contain only UUIDs such as "3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"${got}`;
      }
      const itemType = String(error.params.type ?? '');
      return `${label} must contain only ${ITEM_NAMES[itemType] ?? 'valid'} values${got}`;
    }
    switch (error.keyword) {
      case 'required':
        return `${label} is required: set it to your Orchestra API key`;
      case 'type':
        return `${label} must be ${article(prop.type ?? error.params.type)}${got}`;
      case 'minimum':
      case 'maximum':
        return `${label} must be between ${prop.minimum} and ${prop.maximum}${got}`;
      case 'minLength':
        return `${label} must not be empty`;
      case 'format':
      case 'pattern':
        return `${label} must be ${FORMAT_NAMES[prop.format ?? ''] ?? 'valid'}${example}${got}`;
      case 'uniqueItems':
        return `${label} lists the same value twice${got}`;
      default:
        return `${label} ${error.message ?? 'is invalid'}${got}`;
    }
  });
}

const ITEM_NAMES: Record<string, string> = {
  string: 'text',
  integer: 'whole-number',
  number: 'numeric',
  boolean: 'true/false',
};

function article(type: string): string {
  const names: Record<string, string> = {
    integer: 'a whole number',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    array: 'a list',
    object: 'an object',
  };
  return names[type] ?? type;
}
