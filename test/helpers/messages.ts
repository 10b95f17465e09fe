/** Parsed Airbyte messages and the views tests need of them. */

// Messages are free-form JSON checked by the protocol validator; tests read fields directly.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>;
export type Rec = Record<string, unknown>;

export function parseLines(text: string): Msg[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Msg);
}

export function recordsOf(messages: Msg[], stream?: string): Rec[] {
  return messages
    .filter((m) => m.type === 'RECORD' && (!stream || m.record.stream === stream))
    .map((m) => m.record.data as Rec);
}

export function statesOf(messages: Msg[], stream?: string): Msg[] {
  return messages.filter(
    (m) => m.type === 'STATE' && (!stream || m.state.stream.stream_descriptor.name === stream),
  );
}

/** The state to pass to the next sync: the last STATE per stream, as Airbyte would store it. */
export function nextState(messages: Msg[], previous: Msg[] = []): Msg[] {
  const byStream = new Map<string, Msg>();
  for (const s of previous) byStream.set(s.stream.stream_descriptor.name, s);
  for (const m of statesOf(messages)) byStream.set(m.state.stream.stream_descriptor.name, m.state);
  return [...byStream.values()].map((s) => ({ type: s.type, stream: s.stream }));
}

export function tracesOf(messages: Msg[], type?: string): Msg[] {
  return messages.filter((m) => m.type === 'TRACE' && (!type || m.trace.type === type));
}

export function errorsOf(messages: Msg[]): Msg[] {
  return tracesOf(messages, 'ERROR').map((m) => m.trace.error);
}

export function logsOf(messages: Msg[], level?: string): string[] {
  return messages
    .filter((m) => m.type === 'LOG' && (!level || m.log.level === level))
    .map((m) => m.log.message as string);
}

/** A destination with append_dedup semantics: the last record per id wins. */
export class Destination {
  readonly tables = new Map<string, Map<string, Rec>>();

  apply(messages: Msg[]): void {
    for (const m of messages) {
      if (m.type !== 'RECORD') continue;
      const stream = m.record.stream as string;
      let table = this.tables.get(stream);
      if (!table) this.tables.set(stream, (table = new Map()));
      table.set(m.record.data.id as string, m.record.data as Rec);
    }
  }

  table(stream: string): Map<string, Rec> {
    return this.tables.get(stream) ?? new Map();
  }
}
