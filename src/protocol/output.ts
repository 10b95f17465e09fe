import { Writable } from 'stream';

/** Output chunks are at most about this big before they are handed to the stream. */
const CHUNK_BYTES = 256 * 1024;

/**
 * One Airbyte message per line on stdout, and nothing else. Output is batched into chunks (one
 * write per record would dominate a fast sync), flushed at the end of each burst of synchronous
 * work and before any wait, and backpressure is honoured through `ready()`. Every line that is not
 * a record passes through the redactor, so no log or error can carry the API key.
 */
export class Output {
  private parts: Buffer[] = [];
  private size = 0;
  private scheduled = false;
  private blocked?: Promise<void>;
  private redact: (text: string) => string = (t) => t;
  linesWritten = 0;
  /** Set when the stream failed (e.g. EPIPE: the reader went away); output is dropped from then on. */
  closed?: Error;

  constructor(private readonly stream: Writable = process.stdout) {
    stream.on('error', (err: Error) => {
      this.closed ??= err;
    });
  }

  setRedactor(redact: (text: string) => string): void {
    this.redact = redact;
  }

  /** Record lines as bytes, framed and newline-terminated: the hot path, no redaction. */
  recordBytes(bytes: Buffer): void {
    this.push(bytes);
  }

  /** A record line as text (tests and slow paths). */
  recordLine(line: string): void {
    this.push(Buffer.from(`${line}\n`));
  }

  /** Writes any other message, redacted and flushed promptly. */
  message(msg: object): void {
    this.rawLine(JSON.stringify(msg));
  }

  /** Writes a pre-serialised non-record line (e.g. a STATE whose number format matters). */
  rawLine(line: string): void {
    this.linesWritten++;
    this.push(Buffer.from(`${this.redact(line)}\n`));
    this.flush();
  }

  /** Resolves when the stream can take more; await it in loops that produce output. */
  ready(): Promise<void> | undefined {
    return this.blocked;
  }

  flush(): void {
    if (this.parts.length === 0) return;
    if (this.closed || this.stream.destroyed) {
      this.closed ??= new Error('the output stream is closed');
      this.parts = [];
      this.size = 0;
      return;
    }
    const chunk = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const ok = this.stream.write(chunk);
    if (!ok && !this.blocked) {
      this.blocked = new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          this.stream.off('error', done);
          this.blocked = undefined;
          resolve();
        };
        this.stream.once('drain', done);
        this.stream.once('close', done);
        this.stream.once('error', done);
      });
    }
  }

  /** Flushes and waits until everything written so far has been handed to the OS. */
  async end(): Promise<void> {
    this.flush();
    if (this.closed || this.stream.destroyed) return;
    await new Promise<void>((resolve) => {
      // A zero-length write calls back once the earlier chunks are flushed.
      this.stream.write('', () => resolve());
    });
  }

  private push(bytes: Buffer): void {
    this.parts.push(bytes);
    this.size += bytes.length;
    if (this.size >= CHUNK_BYTES) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }
}
