import { FailureType } from '../errors';

/** Airbyte protocol messages the source emits, built as plain objects (see airbyte_protocol.yaml). */

export type StreamStatus = 'STARTED' | 'RUNNING' | 'COMPLETE' | 'INCOMPLETE';

/**
 * A per-stream STATE. recordCount counts the stream's records since its previous STATE, written
 * with a decimal point as the protocol asks (it is a double on the platform side).
 */
export function stateLine(stream: string, streamState: object, recordCount: number): string {
  const descriptor = JSON.stringify({ name: stream });
  return (
    `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":${descriptor},` +
    `"stream_state":${JSON.stringify(streamState)}},` +
    `"sourceStats":{"recordCount":${recordCount.toFixed(1)}}}}`
  );
}

export function streamStatus(stream: string, status: StreamStatus): object {
  return {
    type: 'TRACE',
    trace: {
      type: 'STREAM_STATUS',
      emitted_at: Date.now(),
      stream_status: { stream_descriptor: { name: stream }, status },
    },
  };
}

export function estimate(stream: string, rows: number): object {
  return {
    type: 'TRACE',
    trace: {
      type: 'ESTIMATE',
      emitted_at: Date.now(),
      estimate: { name: stream, type: 'STREAM', row_estimate: Math.max(0, Math.round(rows)) },
    },
  };
}

export function errorTrace(
  message: string,
  failureType: FailureType,
  options: { internal?: string; stack?: string; stream?: string } = {},
): object {
  const error: Record<string, unknown> = { message, failure_type: failureType };
  if (options.internal) error.internal_message = options.internal;
  if (options.stack) error.stack_trace = options.stack;
  if (options.stream) error.stream_descriptor = { name: options.stream };
  return { type: 'TRACE', trace: { type: 'ERROR', emitted_at: Date.now(), error } };
}

export function connectionStatus(succeeded: boolean, message?: string): object {
  const status: Record<string, unknown> = { status: succeeded ? 'SUCCEEDED' : 'FAILED' };
  if (message) status.message = message;
  return { type: 'CONNECTION_STATUS', connectionStatus: status };
}

export type LogLevel = 'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';

export function logMessage(level: LogLevel, message: string): object {
  return { type: 'LOG', log: { level, message } };
}
