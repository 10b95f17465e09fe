import { ConfigError } from '../errors';

export interface ConfiguredStream {
  name: string;
  syncMode: 'full_refresh' | 'incremental';
}

/** Reads the configured catalog; an unknown stream or sync mode is the user's to fix. */
export function parseCatalog(raw: unknown, knownStreams: readonly string[]): ConfiguredStream[] {
  const streams = (raw as { streams?: unknown } | null)?.streams;
  if (!Array.isArray(streams)) {
    throw new ConfigError(
      'The catalog has no "streams" list: pass the configured catalog (run `discover`, choose sync ' +
        'modes) as {"streams": [{"stream": {...}, "sync_mode": "incremental", ...}]}.',
    );
  }
  const out: ConfiguredStream[] = [];
  const unknown: string[] = [];
  for (const entry of streams as Array<Record<string, unknown>>) {
    const stream = entry?.stream as { name?: unknown } | undefined;
    const name = stream?.name;
    if (typeof name !== 'string') {
      throw new ConfigError(
        'A catalog entry has no stream.name: pass the catalog from `discover`.',
      );
    }
    if (!knownStreams.includes(name)) {
      unknown.push(name);
      continue;
    }
    const mode = entry.sync_mode ?? 'full_refresh';
    if (mode !== 'full_refresh' && mode !== 'incremental') {
      throw new ConfigError(
        `Stream ${name} has sync_mode ${JSON.stringify(mode)}: use "full_refresh" or "incremental".`,
      );
    }
    if (!out.some((s) => s.name === name)) out.push({ name, syncMode: mode });
  }
  if (unknown.length > 0) {
    throw new ConfigError(
      `The catalog asks for stream(s) this source does not have: ${unknown.join(', ')}. ` +
        `Available: ${knownStreams.join(', ')}. Run \`discover\` again and update the catalog.`,
    );
  }
  return out;
}
