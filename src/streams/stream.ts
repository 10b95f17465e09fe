import { AirbyteLogger, AirbyteStream, AirbyteStreamBase, SyncMode } from 'faros-airbyte-cdk';

import { OrchestraClient, QueryParams } from '../client/client';
import { Clock } from '../clock';
import { OrchestraConfig } from '../config';
import { EngineEvent, StreamEngine, StreamState } from './engine';
import { JsonSchema, StreamDefinition, streamDefinition, streamSchema } from './registry';
import { HOUR_MS } from './windows';

/** What every stream needs at read time; built once per command by the source. */
export interface StreamContext {
  config: OrchestraConfig;
  client: OrchestraClient;
  clock: Clock;
  logger: AirbyteLogger;
}

/**
 * A stream is a declaration (resources/streams.json + its schema) served by the one engine.
 * Subclasses only name their stream and add stream-specific request parameters.
 */
export abstract class OrchestraStream extends AirbyteStreamBase {
  readonly definition: StreamDefinition;

  constructor(
    protected readonly ctx: StreamContext,
    streamName: string,
  ) {
    super(ctx.logger);
    this.definition = streamDefinition(streamName);
  }

  override get name(): string {
    return this.definition.name;
  }

  override get primaryKey(): string {
    return this.definition.primary_key;
  }

  override get cursorField(): string[] {
    return [this.definition.cursor_field];
  }

  override getJsonSchema(): JsonSchema {
    return streamSchema(this.definition.name);
  }

  /**
   * The catalog entry, built here rather than by the CDK: the CDK adds `__faros_*` properties to
   * every schema and changes the cursor field when WORKER_JOB_ID is set.
   */
  override asAirbyteStream(): AirbyteStream {
    return {
      name: this.name,
      json_schema: this.getJsonSchema(),
      supported_sync_modes: [SyncMode.FULL_REFRESH, SyncMode.INCREMENTAL],
      source_defined_cursor: true,
      default_cursor_field: [this.definition.cursor_field],
      source_defined_primary_key: [[this.definition.primary_key]],
    };
  }

  /** Config filters mapped to query parameters through the registry's `filters`. */
  filterParams(): QueryParams {
    const params: QueryParams = {};
    const config = this.ctx.config as unknown as Record<string, unknown>;
    for (const [option, param] of Object.entries(this.definition.filters)) {
      const value = config[option];
      if (Array.isArray(value) && value.length > 0) params[param] = value.join(',');
      else if (value === true) params[param] = 'true';
      else if (typeof value === 'string' && value !== '') params[param] = value;
    }
    return params;
  }

  /** Extra parameters for re-fetching unfinished runs by id. */
  refetchParams(): QueryParams {
    return {};
  }

  engine(incremental: boolean, state?: Partial<StreamState>): StreamEngine {
    const { config, client, clock, logger } = this.ctx;
    return new StreamEngine({
      definition: this.definition,
      schemaProperties: Object.keys(this.getJsonSchema().properties),
      client,
      clock,
      log: logger,
      incremental,
      state,
      startDate: config.start_date ? new Date(config.start_date) : undefined,
      lookbackMs: config.lookback_hours * HOUR_MS,
      windowMs: config.window_hours * HOUR_MS,
      pageSize: config.page_size,
      pagesInFlight: config.pages_in_flight,
      filters: this.filterParams(),
      refetchParams: this.refetchParams(),
    });
  }

  /** The CDK's record interface (used by its stream probes); syncs go through engine(). */
  override async *readRecords(
    syncMode: SyncMode,
    _cursorField?: string[],
    _streamSlice?: Record<string, unknown>,
    streamState?: Record<string, unknown>,
  ): AsyncGenerator<Record<string, unknown>> {
    const engine = this.engine(syncMode === SyncMode.INCREMENTAL, streamState);
    for await (const event of engine.run() as AsyncGenerator<EngineEvent>) {
      if (event.type === 'records') yield* event.records;
    }
  }
}
