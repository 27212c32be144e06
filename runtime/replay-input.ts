/**
 * The replay's input, read as a stream: each JSON Lines file line by line,
 * every line a validated event or a dead letter, and the two files merged by
 * event time on the fly into chunks of records for the in-process log.
 *
 * Order: each file in its own line order; the merge takes the head with the
 * smaller timestamp (the prediction on ties). A file out of timestamp order
 * is not sorted: its lines go in as they come, each where the merge meets
 * it (as when the files were read whole), so what holds memory is one line
 * per file, whatever the order (README, "replay").
 *
 * Dead letters: a line that is not JSON, breaks the contract, or is stamped
 * outside the plausible event times (before joiner.min_timestamp, or more
 * than joiner.max_future ahead of the stream's own time: the rule of
 * StreamTimeCheck, core/join/time-bounds.ts). Time is checked here, before
 * the merge, as a line stamped far ahead would hold back the rest of its file
 * in the merge. A time verdict can come a few lines late, so the letters go
 * through an ExternalSorter to come out in line order.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { LazyEncoding, type Codec } from '../adapters/codec/codec.js';
import type { OutgoingRecord } from '../adapters/transport/transport.js';
import { errorMessage, ValidationError } from '../core/errors.js';
import type { DeadLetter } from '../core/events.js';
import { StreamTimeCheck, type Checked, type TimeBounds } from '../core/join/index.js';
import { deadLetterJson } from '../sinks/dead-letters.js';
import type { ExternalSorter } from './external-sort.js';

type Event = { prediction_id: string; timestamp: number };

interface Line<T> {
  value: T;
  line: number;
  text: string;
}

/** A dead letter as a dead_letters.jsonl line: the file and line it came from first. */
export function letterLine(letter: DeadLetter): string {
  return JSON.stringify({ file: letter.topic, line: letter.offset, ...deadLetterJson(letter) });
}

export interface InputFileOptions<T> {
  path: string;
  /** What a line is, in messages: `prediction`, `feedback`. */
  what: string;
  validate: (value: unknown) => T;
  bounds: TimeBounds;
  /** When a letter failed (the clock at the start). */
  now: number;
  /** Where the file's dead letters go, keyed by line. */
  letters: ExternalSorter;
}

/** Why a line is a dead letter. */
class Refusal {
  constructor(
    readonly errorClass: string,
    readonly message: string,
  ) {}
}

/** One input file: its events in line order, its dead letters to the sorter, and what was read. */
export class InputFile<T extends Event> {
  /** Events accepted. */
  events = 0;
  /** Lines refused. */
  refused = 0;
  /** Largest timestamp accepted. */
  latest = Number.NEGATIVE_INFINITY;
  private stream: ReturnType<typeof createReadStream> | undefined;

  constructor(private readonly o: InputFileOptions<T>) {}

  /** Bytes of the file read so far (for progress). */
  get bytesRead(): number {
    return this.stream?.bytesRead ?? 0;
  }

  /** The accepted events in line order; a line's own work is synchronous (only a refusal awaits). */
  async *read(): AsyncGenerator<{ value: T; line: number }> {
    const time = new StreamTimeCheck<Line<T>>('timestamp', this.o.bounds);
    this.stream = createReadStream(this.o.path, 'utf8');
    let number = 0;
    for await (const text of createInterface({ input: this.stream, crlfDelay: Infinity })) {
      number++;
      if (text.trim() === '') continue;
      const value = this.parse(text, number);
      if (value instanceof Refusal) await this.refuse(number, text, value.errorClass, value.message);
      else for (const verdict of time.push({ value, line: number, text }, value.timestamp)) if (this.accept(verdict)) yield verdict.item;
      if (this.late.length > 0) await this.refuseLate();
    }
    for (const verdict of time.end()) if (this.accept(verdict)) yield verdict.item;
    await this.refuseLate();
  }

  /** Lines refused for their time, waiting for their letters (refuseLate). */
  private late: Array<Checked<Line<T>>> = [];

  /** True for an event the time check accepted (counted); a refused one waits in `late`. */
  private accept(verdict: Checked<Line<T>>): boolean {
    if (verdict.problem !== undefined) {
      this.late.push(verdict);
      return false;
    }
    this.events++;
    if (verdict.item.value.timestamp > this.latest) this.latest = verdict.item.value.timestamp;
    return true;
  }

  private async refuseLate(): Promise<void> {
    const late = this.late;
    this.late = [];
    for (const { item, problem } of late) await this.refuse(item.line, item.text, 'validation', `line ${item.line}: ${this.o.what}: ${problem}`);
  }

  /** The line's event, or why it is refused. */
  private parse(text: string, number: number): T | Refusal {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return new Refusal('decode', `line ${number} is not JSON: ${errorMessage(error)}`);
    }
    try {
      return this.o.validate(parsed);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return new Refusal('validation', `line ${number}: ${error.message}`);
    }
  }

  private async refuse(line: number, text: string, errorClass: string, message: string): Promise<void> {
    this.refused++;
    const letter: DeadLetter = {
      topic: this.o.path, partition: 0, offset: line, key: null, value: Buffer.from(text, 'utf8'),
      error_class: errorClass, error_message: message, stage: 'replay-input', failed_at: this.o.now,
    };
    await this.o.letters.add([line, 0], letterLine(letter));
  }
}

/** How asRecords writes its records for a log that keeps events beside their bytes (the replay's). */
export interface CarriedOptions {
  /** Their bytes made only if read (a transport with lazyValues). */
  lazy?: boolean;
  /** The contract and limits the events were validated under (OutgoingRecord.validated: a reader under the same takes them as they are). */
  validatedBy?: { contract: unknown; limits: unknown };
}

/** Events as records of their topic, keyed by prediction_id, with the file and line they came from. */
export async function* asRecords<T extends Event>(events: AsyncIterable<{ value: T; line: number }>, topic: string, codec: Codec<T>, path: string, options: CarriedOptions = {}): AsyncGenerator<OutgoingRecord> {
  const file = resolve(path);
  const { lazy = false, validatedBy } = options;
  for await (const e of events) {
    const lazyValue = lazy ? LazyEncoding.of(codec, e.value) : undefined;
    const value = lazyValue ? null : await codec.encode(e.value);
    const validated = validatedBy && { contract: validatedBy.contract, limits: validatedBy.limits, value: e.value };
    yield { topic, key: Buffer.from(e.value.prediction_id), value, lazyValue, timestamp: e.value.timestamp, headers: { file, line: String(e.line) }, decoded: e.value, validated };
  }
}

/** Two streams of records merged by timestamp, each in its own order; `a` first on ties. */
export async function* mergeByTime(a: AsyncIterator<OutgoingRecord>, b: AsyncIterator<OutgoingRecord>): AsyncGenerator<OutgoingRecord> {
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value.timestamp! <= y.value.timestamp!)) {
      yield x.value as OutgoingRecord;
      x = await a.next();
    } else {
      yield y.value;
      y = await b.next();
    }
  }
}

/** Records cut into chunks of about `size`, never between equal timestamps. */
export async function* chunksOf(records: AsyncIterable<OutgoingRecord>, size: number): AsyncGenerator<OutgoingRecord[]> {
  let chunk: OutgoingRecord[] = [];
  for await (const record of records) {
    const full = chunk.length >= size && record.timestamp !== chunk[chunk.length - 1]!.timestamp;
    if (full) {
      yield chunk;
      chunk = [];
    }
    chunk.push(record);
  }
  if (chunk.length > 0) yield chunk;
}
