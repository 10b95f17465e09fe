import VError from 'verror';

/** Airbyte's failure types: config_error means the user must change something; system_error does not. */
export type FailureType = 'config_error' | 'system_error';

/** The user's input (config, catalog, state, credentials, URL) is wrong: fixing it is on them. */
export class ConfigError extends VError {
  readonly failureType: FailureType = 'config_error';
  constructor(message: string, options: { cause?: Error; info?: Record<string, unknown> } = {}) {
    super({ name: 'ConfigError', cause: options.cause, info: options.info }, '%s', message);
  }
}

/** Something outside the user's control failed (API outage, malformed data, exhausted retries). */
export class SystemError extends VError {
  readonly failureType: FailureType = 'system_error';
  constructor(message: string, options: { cause?: Error; info?: Record<string, unknown> } = {}) {
    super({ name: 'SystemError', cause: options.cause, info: options.info }, '%s', message);
  }
}

export function failureTypeOf(err: unknown): FailureType {
  if (err instanceof ConfigError) return 'config_error';
  if (err instanceof VError) {
    const cause = VError.cause(err);
    if (cause) return failureTypeOf(cause);
  }
  return 'system_error';
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
