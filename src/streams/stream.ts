import { AirbyteLogger, AirbyteStream, SyncMode } from '../cdk';

import { OrchestraClient, QueryParams } from '../client/client';
import { Clock } from '../clock';
import { OrchestraConfig } from '../config';
import { StreamEngine, StreamState } from './engine';
import { JsonSchema, StreamDefinition, streamDefinition, streamSchema } from './registry';
import { Framing } from './transcode';
import { HOUR_MS } from './slices';

/** What every stream needs at read time; built once per command by the source. */
export interface StreamContext {
  config: OrchestraConfig;
  client: OrchestraClient;
  clock: Clock;
  logger: AirbyteLogger;
}

/**
 * A stream is a declaration (resources/streams.json + its schema) served by the one engine.
 * Subclasses only name their stream and add stream-specific request parameters. (Not the CDK's
 * stream base: its read loop, slices and catalog entry are replaced by the engine and the
 * protocol layer, and its module loads faros-js-client.)
 */
export abstract class OrchestraStream {
  readonly definition: StreamDefinition;

  constructor(
    protected readonly ctx: StreamContext,
    streamName: string,
  ) {
    this.definition = streamDefinition(streamName);
  }

  get name(): string {
    return this.definition.name;
  }

  getJsonSchema(): JsonSchema {
    return streamSchema(this.definition.name);
  }

  /**
   * The catalog entry: the schema file as is (no `__faros_*` properties), the top-level cursor,
   * the same with or without WORKER_JOB_ID.
   */
  asAirbyteStream(): AirbyteStream {
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

  engine(
    incremental: boolean,
    state?: Partial<StreamState>,
    framing?: () => Framing,
  ): StreamEngine {
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
      lookbackWindowMs: config.lookback_hours * HOUR_MS,
      sliceMs: config.window_hours * HOUR_MS,
      pageSize: config.page_size,
      pagesInFlight: config.pages_in_flight,
      filters: this.filterParams(),
      refetchParams: this.refetchParams(),
      framing,
    });
  }
}
