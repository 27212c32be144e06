/**
 * `feedbackloop produce`: JSON Lines files of predictions and feedback into
 * the input topics of a running deployment, by the replay's rules
 * (runtime/replay-input.ts): each file read line by line, every line
 * validated by the event contract and the plausible event times, a line
 * that fails becomes a dead letter (file, line, reason) in `deadLetters`,
 * and the two files are merged by event time as they are read. Records are
 * keyed by prediction_id (Kafka's default partitioner then places a
 * prediction and its feedback together) and encoded as Avro through the
 * schema registry, in chunks each acknowledged before the next is read:
 * memory does not grow with the files.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../adapters/config/index.js';
import type { Codecs } from '../adapters/codec/codecs.js';
import type { LogTransport, OutgoingRecord } from '../adapters/transport/transport.js';
import { validateFeedback, validatePrediction, type Feedback, type Prediction } from '../core/events.js';
import { JsonlWriter } from '../sinks/jsonl-writer.js';
import { ExternalSorter } from './external-sort.js';
import { asRecords, chunksOf, InputFile, mergeByTime } from './replay-input.js';
import { joinerTimeBounds, recordLimits } from './settings.js';

/** Records sent at a time (each chunk acknowledged before the next). */
const PRODUCE_CHUNK = 1_000;

export interface ProduceInput {
  config: Config;
  predictions?: string;
  feedback?: string;
  /** Where refused lines go (written only if there are any). */
  deadLetters: string;
  /** Told after each acknowledged chunk. */
  onProgress?: (progress: ProduceProgress) => void;
}

export interface ProduceProgress {
  predictions: number;
  feedback: number;
  refused: number;
  /** Bytes of the input files read so far, and their sizes. */
  bytesRead: number;
}

export interface ProduceSummary extends ProduceProgress {
  /** The dead-letter file, when lines were refused. */
  dead_letters_file: string | null;
}

/** Sends the files' events to their topics; returns what was sent and refused. */
export async function produceFiles(input: ProduceInput, transport: LogTransport, codecs: Codecs, now: number): Promise<ProduceSummary> {
  const tmp = await mkdtemp(join(tmpdir(), 'feedbackloop-produce-'));
  try {
    const files = inputFiles(input, now, tmp, codecs);
    const producer = await transport.producer();
    const sent = { predictions: 0, feedback: 0 };
    const progress = (): ProduceProgress => ({ ...sent, refused: files.reduce((n, f) => n + f.file.refused, 0), bytesRead: files.reduce((n, f) => n + f.file.bytesRead, 0) });
    try {
      for await (const chunk of chunksOf(records(files), PRODUCE_CHUNK)) {
        await producer.send(chunk);
        for (const record of chunk) sent[record.topic === input.config.topics.predictions ? 'predictions' : 'feedback']++;
        input.onProgress?.(progress());
      }
    } finally {
      await producer.close();
    }
    const summary = progress();
    return { ...summary, dead_letters_file: summary.refused > 0 ? await writeLetters(files, input.deadLetters) : null };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

type Input = { file: InputFile<Prediction> | InputFile<Feedback>; records: () => AsyncGenerator<OutgoingRecord>; letters: ExternalSorter };

function inputFiles(input: ProduceInput, now: number, tmp: string, codecs: Codecs): Input[] {
  const limits = recordLimits(input.config);
  const bounds = joinerTimeBounds(input.config);
  const t = input.config.topics;
  const out: Input[] = [];
  if (input.predictions !== undefined) {
    const path = input.predictions;
    const letters = new ExternalSorter(tmp, 'letters-predictions');
    const file = new InputFile<Prediction>({ path, what: 'prediction', validate: (v) => validatePrediction(v, limits), bounds, now, letters });
    out.push({ file, letters, records: () => asRecords(file.read(), t.predictions, codecs.prediction, path) });
  }
  if (input.feedback !== undefined) {
    const path = input.feedback;
    const letters = new ExternalSorter(tmp, 'letters-feedback');
    const file = new InputFile<Feedback>({ path, what: 'feedback', validate: (v) => validateFeedback(v, limits), bounds, now, letters });
    out.push({ file, letters, records: () => asRecords(file.read(), t.feedback, codecs.feedback, path) });
  }
  return out;
}

/** The files' records merged by event time (predictions first on ties), as Kafka gets them. */
async function* records(files: Input[]): AsyncGenerator<OutgoingRecord> {
  const streams = files.map((f) => f.records());
  const merged = streams.length === 2 ? mergeByTime(streams[0]!, streams[1]!) : streams[0]!;
  // The replay's file/line headers are local paths, and the decoded event is the in-process log's: neither is sent.
  // No record timestamp: Kafka's client stamps the send time. Stamped with the event's own (old) time, a
  // backfill would be past the input topic's time retention as it arrives, and the broker's next retention
  // check (every 5 minutes by default) would delete it, perhaps before `run` reads it.
  for await (const record of merged) yield { topic: record.topic, key: record.key, value: record.value };
}

async function writeLetters(files: Input[], path: string): Promise<string> {
  const out = new JsonlWriter(path);
  for (const f of files) await f.letters.writeTo(out);
  await out.close();
  return path;
}
