import VError from 'verror';

import {
  AirbyteConnectionStatus,
  AirbyteConnectionStatusMessage,
  AirbyteCatalogMessage,
  AirbyteConfiguredCatalog,
  AirbyteLogger,
  AirbyteMessage,
  AirbyteSource,
  AirbyteSpec,
  AirbyteState,
} from './cdk';
import { OrchestraClient } from './client/client';
import { Sleep } from './client/budget';
import { CHECK_RETRY, RetryOptions } from './client/retry';
import { ServerClock } from './clock';
import { loadSpec, OrchestraConfig, parseConfig } from './config';
import { FailureType, failureTypeOf, messageOf } from './errors';
import { parseCatalog } from './protocol/catalog';
import { readStreams, ReadSummary } from './protocol/read';
import { parseState } from './protocol/state';
import { allStreams, OrchestraStream } from './streams';
import { HOUR_MS } from './streams/slices';

export interface SourceOptions {
  /** Injected by tests that shorten retry delays; production uses the defaults. */
  retry?: Partial<RetryOptions>;
  /** Injected by the soak test to compress real waiting; decisions (how long) stay production's. */
  sleep?: Sleep;
  clock?: ServerClock;
}

/** What `check` found: nothing, or one actionable message and its Airbyte failure type. */
export type CheckResult = { ok: true } | { ok: false; message: string; failureType: FailureType };

/** Orchestra source: spec, check, discover, read; the work lives in client/, streams/, protocol/. */
export class OrchestraSource extends AirbyteSource<OrchestraConfig> {
  readonly clock: ServerClock;
  private client?: OrchestraClient;
  lastRead?: ReadSummary;

  constructor(
    private readonly logger: AirbyteLogger,
    private readonly options: SourceOptions = {},
  ) {
    super();
    this.clock = options.clock ?? new ServerClock();
  }

  async spec(): Promise<AirbyteSpec> {
    return new AirbyteSpec(loadSpec() as unknown as AirbyteSpec['spec']);
  }

  apiClient(config: OrchestraConfig): OrchestraClient {
    this.client ??= new OrchestraClient({
      baseUrl: config.api_url,
      apiKey: config.api_key,
      accountId: config.account_id,
      timeoutMs: config.request_timeout_seconds * 1000,
      maxSockets: config.pages_in_flight + 1,
      requestsPerMinute: config.requests_per_minute,
      retryBudgetMs: config.retry_budget_seconds * 1000,
      clock: this.clock,
      log: this.logger,
      retry: this.options.retry,
      sleep: this.options.sleep,
    });
    return this.client;
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  /** One cheap authenticated request: the newest pipeline run of the last hour, one per page. */
  async probe(config: OrchestraConfig, retry?: RetryOptions): Promise<void> {
    const now = this.clock.now();
    await this.apiClient(config).getPage(
      '/pipeline_runs',
      {
        page: 1,
        page_size: 1,
        time_from: new Date(now.getTime() - HOUR_MS).toISOString(),
        time_to: now.toISOString(),
      },
      { path: '/pipeline_runs', page: 1, detail: 'connection check' },
      retry,
    );
  }

  async checkConnection(config: OrchestraConfig): Promise<[boolean, VError | undefined]> {
    try {
      await this.probe(config, { ...CHECK_RETRY, ...this.options.retry, maxAttempts: 2 });
      return [true, undefined];
    } catch (err) {
      return [false, err instanceof VError ? err : new VError('%s', messageOf(err))];
    }
  }

  /**
   * `check` validates the config first (a bad field is named), then makes one cheap authenticated
   * request. A failure says what to fix and whether it is the user's input or the system.
   */
  async checkConfig(rawConfig: unknown): Promise<CheckResult> {
    let config: OrchestraConfig;
    try {
      config = parseConfig(rawConfig);
    } catch (err) {
      return { ok: false, message: messageOf(err), failureType: 'config_error' };
    }
    const [ok, error] = await this.checkConnection(config);
    if (ok) return { ok: true };
    return {
      ok: false,
      message: error?.message ?? 'The connection check failed.',
      failureType: failureTypeOf(error),
    };
  }

  /** The CDK's shape of `check` (a bare status message), over checkConfig. */
  async check(rawConfig: unknown): Promise<AirbyteConnectionStatusMessage> {
    const result = await this.checkConfig(rawConfig);
    return result.ok
      ? new AirbyteConnectionStatusMessage({ status: AirbyteConnectionStatus.SUCCEEDED })
      : new AirbyteConnectionStatusMessage({
          status: AirbyteConnectionStatus.FAILED,
          message: result.message,
        });
  }

  streams(config: OrchestraConfig): OrchestraStream[] {
    return allStreams({
      config,
      client: this.apiClient(config),
      clock: this.clock,
      logger: this.logger,
    });
  }

  /** The catalog: the three streams with their schemas, primary key and cursor. */
  async discover(config: OrchestraConfig): Promise<AirbyteCatalogMessage> {
    return new AirbyteCatalogMessage({
      streams: this.streams(config).map((s) => s.asAirbyteStream()),
    });
  }

  /**
   * A sync: validate the catalog and state, one authenticated request (credentials, server clock),
   * then every configured stream through the engine. Throws StreamsFailed when a stream failed.
   */
  async *read(
    config: OrchestraConfig,
    _redactedConfig: unknown,
    catalog: AirbyteConfiguredCatalog,
    state: AirbyteState,
  ): AsyncGenerator<AirbyteMessage> {
    const streams = this.streams(config);
    const names = streams.map((s) => s.name);
    const configured = parseCatalog(catalog, names);
    const parsedState = parseState(state, names);
    await this.probe(config);
    const summary: ReadSummary = { records: {}, states: {}, failed: [] };
    this.lastRead = summary;
    yield* readStreams(streams, configured, parsedState, this.logger, summary);
  }
}
