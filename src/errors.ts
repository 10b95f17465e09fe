import VError from 'verror';

/**
 * Airbyte's failure types (the protocol's AirbyteErrorTraceMessage.failure_type): the platform
 * retries an attempt that ended in transient_error, asks the user to act on config_error, and
 * treats system_error as a connector problem.
 */
export type FailureType = 'config_error' | 'system_error' | 'transient_error';

type ErrorOptions = { cause?: Error; info?: Record<string, unknown> };

/** The user's input (config, catalog, state, credentials, URL) is wrong: fixing it is on them. */
export class ConfigError extends VError {
  readonly failureType: FailureType = 'config_error';
  constructor(message: string, options: ErrorOptions = {}) {
    super({ name: 'ConfigError', cause: options.cause, info: options.info }, '%s', message);
  }
}

/**
 * The API or the network failed and retrying later should work: retries exhausted on 429, 5xx,
 * timeouts, resets or truncated bodies. The next attempt resumes from the last checkpoint.
 */
export class TransientError extends VError {
  readonly failureType: FailureType = 'transient_error';
  constructor(message: string, options: ErrorOptions = {}) {
    super({ name: 'TransientError', cause: options.cause, info: options.info }, '%s', message);
  }
}

/** Something neither the user nor a retry can fix: an unexpected answer or a bug. */
export class SystemError extends VError {
  readonly failureType: FailureType = 'system_error';
  constructor(message: string, options: ErrorOptions = {}) {
    super({ name: 'SystemError', cause: options.cause, info: options.info }, '%s', message);
  }
}

/** The failure type an error carries, through VError causes; anything unclassified is a bug. */
export function failureTypeOf(err: unknown): FailureType {
  if (err instanceof ConfigError || err instanceof TransientError || err instanceof SystemError) {
    return err.failureType;
  }
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
