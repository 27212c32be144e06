/**
 * A JSON Lines file written as a stream (the replay's outputs): each write
 * waits while the stream's buffer is full, so what is held in memory is the
 * stream's high-water mark, not the file. The mark is 1 MiB, not node's
 * 16 KiB: a replay then waits for the disk every few thousand lines rather
 * than every hundred (it sat idle 7% of its time at 16 KiB). Lines go to the
 * stream 64 Ki characters at a time (a buffer and a stream write per line were
 * 2% of a replay); close() writes the rest.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';

/** Bytes a writer buffers before a write waits for the disk. */
const HIGH_WATER_MARK = 1 << 20;
/** Characters of lines gathered before they go to the stream as one write. */
const PENDING_CHARS = 1 << 16;

export class JsonlWriter {
  private readonly out: WriteStream;
  private failure: unknown = undefined;
  /** Lines written but not yet handed to the stream (fewer than PENDING_CHARS characters). */
  private pending = '';
  lines = 0;

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { highWaterMark: HIGH_WATER_MARK });
    this.out.on('error', (error) => (this.failure = error));
  }

  /** Writes one row as a line of JSON. */
  row(value: unknown): Promise<void> {
    return this.line(JSON.stringify(value));
  }

  /** Writes a line (without its newline): gathered with the next ones, the stream takes them PENDING_CHARS at a time. */
  async line(text: string): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.lines++;
    this.pending += text + '\n';
    if (this.pending.length >= PENDING_CHARS) await this.flush();
  }

  /** Hands the gathered lines to the stream (one string, one buffer: not one per line). */
  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    if (!this.out.write(text)) await this.drained();
  }

  /** Appends the whole of another file, as it is. */
  async append(path: string): Promise<void> {
    await this.flush();
    for await (const chunk of createReadStream(path)) {
      if (this.failure !== undefined) throw this.failure;
      if (!this.out.write(chunk as Buffer)) await this.drained();
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await finished(this.out);
  }

  /** Waits for the buffer to empty (`once` rejects if the stream fails meanwhile). */
  private async drained(): Promise<void> {
    await once(this.out, 'drain');
  }
}
