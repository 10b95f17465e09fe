import { AirbyteLogger, AirbyteMessage, AirbyteMessageType } from '../cdk';

import { failureTypeOf, messageOf } from '../errors';
import { StreamState } from '../streams/engine';
import { OrchestraStream } from '../streams/stream';
import { ConfiguredStream } from './catalog';
import { errorTrace, estimate, stateLine, StreamStatus, streamStatus } from './messages';
import { StateByStream } from './state';

/**
 * Pre-serialised output: one or more protocol lines. A page of records travels as one message, so
 * the per-record cost is the JSON serialisation and nothing else.
 */
export class SerialisedLines implements AirbyteMessage {
  constructor(
    readonly type: AirbyteMessageType,
    readonly text: string,
  ) {}
}

/** A page of RECORD lines, already framed and newline-terminated, as bytes. */
export class RecordBytes implements AirbyteMessage {
  readonly type = AirbyteMessageType.RECORD;
  constructor(readonly bytes: Buffer) {}
}

/** A message object written as-is (JSON), e.g. a TRACE. */
export class ObjectMessage implements AirbyteMessage {
  readonly type: AirbyteMessageType;
  constructor(readonly body: object) {
    this.type = (body as { type: AirbyteMessageType }).type;
  }
}

/** Thrown after every stream ran when at least one failed; its TRACE messages are already out. */
export class StreamsFailed extends Error {
  constructor(readonly streams: string[]) {
    super(`Stream(s) failed: ${streams.join(', ')}`);
  }
}

export interface ReadSummary {
  records: Record<string, number>;
  states: Record<string, StreamState>;
  failed: string[];
}

/**
 * Runs the configured streams in order with Airbyte's standard bookkeeping: STREAM_STATUS
 * (STARTED, RUNNING, COMPLETE or INCOMPLETE), ESTIMATE from the API's totals, per-stream STATE
 * with sourceStats.recordCount (in both sync modes), and, for a failed stream, INCOMPLETE then a
 * TRACE error naming it. A credentials or input problem stops the remaining streams (they would
 * fail the same way: each gets INCOMPLETE without STARTED); other failures do not.
 */
export async function* readStreams(
  streams: OrchestraStream[],
  configured: ConfiguredStream[],
  state: StateByStream,
  logger: AirbyteLogger,
  summary: ReadSummary,
): AsyncGenerator<AirbyteMessage> {
  const byName = new Map(streams.map((s) => [s.name, s]));
  let stopAll = false;
  for (const { name, syncMode } of configured) {
    const stream = byName.get(name) as OrchestraStream;
    summary.records[name] = 0;
    if (stopAll) {
      yield status(name, 'INCOMPLETE');
      continue;
    }
    yield status(name, 'STARTED');
    const incremental = syncMode === 'incremental';
    logger.info(`${name}: starting ${incremental ? 'an incremental' : 'a full refresh'} read`);
    const head = Buffer.from(`{"type":"RECORD","record":{"stream":${JSON.stringify(name)},"data":`);
    // One emitted_at per page: records of a page are emitted together.
    const framing = () => ({ head, tail: Buffer.from(`,"emitted_at":${Date.now()}}}\n`) });
    const engine = stream.engine(incremental, incremental ? state[name] : undefined, framing);
    let sinceState = 0;
    let running = false;
    let lastEstimate = -1;
    try {
      for await (const event of engine.run()) {
        if (!running) {
          running = true;
          yield status(name, 'RUNNING');
        }
        if (event.type === 'records') {
          sinceState += event.count;
          summary.records[name] += event.count;
          yield new RecordBytes(event.bytes);
        } else if (event.type === 'state') {
          summary.states[name] = event.state;
          yield new SerialisedLines(
            AirbyteMessageType.STATE,
            stateLine(name, event.state, sinceState),
          );
          sinceState = 0;
        } else if (event.rows !== lastEstimate) {
          lastEstimate = event.rows;
          yield new ObjectMessage(estimate(name, event.rows));
        }
      }
      yield status(name, 'COMPLETE');
      logger.info(`${name}: done, ${summary.records[name]} records`);
    } catch (err) {
      const failureType = failureTypeOf(err);
      summary.failed.push(name);
      logger.error(`${name}: failed after ${summary.records[name]} records: ${messageOf(err)}`);
      // The status first, then the error naming the stream: the order of Airbyte's Python CDK
      // (AbstractSource.read), which the platform's per-stream status tracking expects.
      yield status(name, 'INCOMPLETE');
      yield new ObjectMessage(
        errorTrace(messageOf(err), failureType, {
          internal: (err as Error)?.name,
          stack: (err as Error)?.stack,
          stream: name,
        }),
      );
      if (failureType === 'config_error') stopAll = true;
    }
  }
  if (summary.failed.length > 0) throw new StreamsFailed(summary.failed);
}

function status(name: string, value: StreamStatus): ObjectMessage {
  return new ObjectMessage(streamStatus(name, value));
}
