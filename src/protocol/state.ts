import zlib from 'zlib';

import { ConfigError } from '../errors';
import { StreamState } from '../streams/engine';
import { parseCursor } from '../streams/slices';

export type StateByStream = Record<string, Partial<StreamState>>;

const HINT =
  'pass the STATE messages of the previous sync (a JSON array), [] or {} for a first sync';

/**
 * Reads input state in every shape Airbyte tools send: an array of per-stream STATE messages (or
 * their `state` objects), `[]`, a GLOBAL state, a LEGACY `{"data": ...}` state, a plain
 * `{"<stream>": {...}}` object, and the gzip+base64 blobs older faros-airbyte-cdk versions wrote.
 * Anything else is a config error: silently starting over would re-read and may lose data.
 */
export function parseState(raw: unknown, knownStreams: readonly string[]): StateByStream {
  const out: StateByStream = {};
  const entries = Array.isArray(raw) ? raw : [raw];
  for (const entry of entries) {
    mergeEntry(out, unwrap(entry));
  }
  for (const [stream, state] of Object.entries(out)) {
    if (!knownStreams.includes(stream)) {
      delete out[stream];
      continue;
    }
    out[stream] = checkStreamState(stream, state);
  }
  return out;
}

/** Unwraps `{"type":"STATE","state":{...}}` and compressed blobs. */
function unwrap(entry: unknown): unknown {
  let value = decompress(entry);
  if (isObject(value) && value.type === 'STATE' && isObject(value.state)) value = value.state;
  return value;
}

function mergeEntry(out: StateByStream, entry: unknown): void {
  if (entry === null || entry === undefined) return;
  if (!isObject(entry)) {
    throw new ConfigError(
      `Unreadable state: expected JSON objects, found ${typeof entry}: ${HINT}.`,
    );
  }
  if (entry.type === 'STREAM') {
    const stream = isObject(entry.stream) ? entry.stream : undefined;
    const descriptor = stream && isObject(stream.stream_descriptor) ? stream.stream_descriptor : {};
    const name = descriptor.name;
    if (typeof name !== 'string') {
      throw new ConfigError(
        `Unreadable state: a STREAM state has no stream_descriptor.name: ${HINT}.`,
      );
    }
    const streamState = decompress(stream?.stream_state);
    if (streamState !== undefined && streamState !== null)
      out[name] = asStreamState(name, streamState);
    return;
  }
  if (entry.type === 'GLOBAL') {
    const global = isObject(entry.global) ? entry.global : {};
    const states = Array.isArray(global.stream_states) ? global.stream_states : [];
    for (const s of states) mergeEntry(out, { type: 'STREAM', stream: s });
    return;
  }
  if (
    entry.type === 'LEGACY' ||
    (entry.type === undefined && 'data' in entry && isObject(decompress(entry.data)))
  ) {
    mergeEntry(out, decompress(entry.data) ?? {});
    return;
  }
  if (typeof entry.type === 'string') {
    throw new ConfigError(`Unreadable state: unknown state type "${entry.type}": ${HINT}.`);
  }
  // A plain {"<stream>": {...}} object.
  for (const [name, value] of Object.entries(entry)) {
    const decoded = decompress(value);
    if (decoded === null || decoded === undefined) continue;
    out[name] = asStreamState(name, decoded);
  }
}

function asStreamState(name: string, value: unknown): Partial<StreamState> {
  if (!isObject(value)) {
    throw new ConfigError(
      `Unreadable state for stream ${name}: expected an object, found ${JSON.stringify(value)}: ${HINT}.`,
    );
  }
  return value as Partial<StreamState>;
}

function checkStreamState(name: string, state: Partial<StreamState>): Partial<StreamState> {
  if (state.cursor !== undefined && state.cursor !== null && !parseCursor(state.cursor)) {
    throw new ConfigError(
      `Unreadable state for stream ${name}: cursor ${JSON.stringify(state.cursor)} is not an ISO ` +
        `date-time: ${HINT}.`,
    );
  }
  if (state.open_ids !== undefined && !Array.isArray(state.open_ids)) {
    throw new ConfigError(
      `Unreadable state for stream ${name}: open_ids must be a list of ids: ${HINT}.`,
    );
  }
  return state;
}

/** The faros-airbyte-cdk wrote state as {"format": "base64/gzip", "data": "..."}. */
function decompress(value: unknown): unknown {
  if (isObject(value) && value.format === 'base64/gzip' && typeof value.data === 'string') {
    try {
      return JSON.parse(zlib.gunzipSync(Buffer.from(value.data, 'base64')).toString('utf8'));
    } catch {
      throw new ConfigError(`Unreadable state: a compressed state blob does not decode: ${HINT}.`);
    }
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
