/**
 * A JSON Lines file written as a stream (the replay's outputs): each write
 * waits while the stream's buffer is full, so what is held in memory is the
 * stream's high-water mark, not the file. The mark is 1 MiB, not node's
 * 16 KiB: a replay then waits for the disk every few thousand lines rather
 * than every hundred (it sat idle 7% of its time at 16 KiB).
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';

/** Bytes a writer buffers before a write waits for the disk. */
const HIGH_WATER_MARK = 1 << 20;

export class JsonlWriter {
  private readonly out: WriteStream;
  private failure: unknown = undefined;
  lines = 0;

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { highWaterMark: HIGH_WATER_MARK });
    this.out.on('error', (error) => (this.failure = error));
  }

  /** Writes one row as a line of JSON. */
  row(value: unknown): Promise<void> {
    return this.line(JSON.stringify(value));
  }

  /** Writes a line (without its newline). */
  async line(text: string): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.lines++;
    if (!this.out.write(`${text}\n`)) await this.drained();
  }

  /** Appends the whole of another file, as it is. */
  async append(path: string): Promise<void> {
    for await (const chunk of createReadStream(path)) {
      if (this.failure !== undefined) throw this.failure;
      if (!this.out.write(chunk as Buffer)) await this.drained();
    }
  }

  async close(): Promise<void> {
    this.out.end();
    await finished(this.out);
  }

  /** Waits for the buffer to empty (`once` rejects if the stream fails meanwhile). */
  private async drained(): Promise<void> {
    await once(this.out, 'drain');
  }
}
