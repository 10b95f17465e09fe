import zlib from 'zlib';

import { ConfigError } from '../../src/errors';
import { parseState } from '../../src/protocol/state';

const STREAMS = ['pipeline_runs', 'task_runs', 'operations'];
const A = { cursor: '2026-03-01T00:00:00.000Z', open_ids: ['r1'] };
const B = { cursor: '2026-03-02T00:00:00.000Z', open_ids: [] };

const streamState = (name: string, state: unknown) => ({
  type: 'STREAM',
  stream: { stream_descriptor: { name }, stream_state: state },
});

describe('input state in every shape Airbyte tools send', () => {
  it('reads an array of per-stream STATE objects', () => {
    expect(
      parseState([streamState('pipeline_runs', A), streamState('operations', B)], STREAMS),
    ).toEqual({
      pipeline_runs: A,
      operations: B,
    });
  });

  it('reads full STATE messages as written to stdout', () => {
    const msg = {
      type: 'STATE',
      state: { ...streamState('task_runs', A), sourceStats: { recordCount: 3.0 } },
    };
    expect(parseState([msg], STREAMS)).toEqual({ task_runs: A });
  });

  it('reads [] and {} as "no state"', () => {
    expect(parseState([], STREAMS)).toEqual({});
    expect(parseState({}, STREAMS)).toEqual({});
  });

  it('reads a plain {"<stream>": state} object', () => {
    expect(parseState({ pipeline_runs: A, task_runs: B }, STREAMS)).toEqual({
      pipeline_runs: A,
      task_runs: B,
    });
  });

  it('reads LEGACY and GLOBAL states', () => {
    expect(parseState([{ type: 'LEGACY', data: { operations: B } }], STREAMS)).toEqual({
      operations: B,
    });
    expect(parseState({ data: { operations: B } }, STREAMS)).toEqual({ operations: B });
    const global = {
      type: 'GLOBAL',
      global: { shared_state: {}, stream_states: [streamState('task_runs', A).stream] },
    };
    expect(parseState([global], STREAMS)).toEqual({ task_runs: A });
  });

  it('reads the gzip+base64 state older faros-airbyte-cdk versions wrote', () => {
    const data = zlib
      .gzipSync(Buffer.from(JSON.stringify({ pipeline_runs: A })))
      .toString('base64');
    expect(parseState({ format: 'base64/gzip', data }, STREAMS)).toEqual({ pipeline_runs: A });
    expect(parseState({ data: { format: 'base64/gzip', data } }, STREAMS)).toEqual({
      pipeline_runs: A,
    });
  });

  it('ignores state of streams the source does not have', () => {
    expect(parseState([streamState('users', A)], STREAMS)).toEqual({});
  });

  const corrupt: Array<[string, unknown, RegExp]> = [
    ['a number', 42, /expected JSON objects/],
    ['a string', 'cursor', /expected JSON objects/],
    [
      'a cursor that is not a date',
      { pipeline_runs: { cursor: 'soon' } },
      /pipeline_runs: cursor "soon" is not an ISO date-time/,
    ],
    [
      'open_ids that is not a list',
      { task_runs: { cursor: A.cursor, open_ids: 'r1' } },
      /open_ids must be a list/,
    ],
    [
      'a STREAM state without a name',
      [{ type: 'STREAM', stream: {} }],
      /no stream_descriptor.name/,
    ],
    ['an unknown state type', [{ type: 'PARTIAL', data: {} }], /unknown state type "PARTIAL"/],
    ['a stream state that is not an object', { operations: [1, 2] }, /expected an object/],
    [
      'a compressed blob that does not decode',
      { format: 'base64/gzip', data: 'bm90IGd6aXA=' },
      /does not decode/,
    ],
  ];

  it.each(corrupt)(
    'rejects %s as a config error instead of resyncing silently',
    (_name, raw, expected) => {
      let error: unknown;
      try {
        parseState(raw, STREAMS);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(expected);
    },
  );
});
