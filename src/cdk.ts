/**
 * The parts of faros-airbyte-cdk this source builds on, imported from their own modules: the
 * package index also loads the CDK's stream base, which requires faros-js-client (about 35 MB of
 * resident memory, for a helper this source does not use). Everything CDK-related goes through
 * this file.
 */
export { AirbyteSource } from 'faros-airbyte-cdk/lib/sources/source';
export { AirbyteLogger } from 'faros-airbyte-cdk/lib/logger';
export {
  AirbyteCatalogMessage,
  AirbyteConnectionStatus,
  AirbyteConnectionStatusMessage,
  AirbyteLogLevel,
  AirbyteMessageType,
  AirbyteSpec,
  SyncMode,
} from 'faros-airbyte-cdk/lib/protocol';
export type {
  AirbyteConfig,
  AirbyteConfiguredCatalog,
  AirbyteMessage,
  AirbyteState,
  AirbyteStream,
} from 'faros-airbyte-cdk/lib/protocol';
