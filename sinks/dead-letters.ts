/**
 * Where dead letters go: a Kafka topic (DeadLetter Avro records), a JSON
 * Lines file (replay), or a ClickHouse table. Each keeps the raw bytes, where
 * they came from and why they were rejected.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DeadLetter } from '../core/events.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogProducer } from '../adapters/transport/transport.js';
import { deadLetterRow, type ClickHouseStore } from '../adapters/clickhouse/index.js';
import type { Sink } from './sink.js';

export class TopicDeadLetterSink implements Sink<DeadLetter> {
  constructor(
    private readonly producer: LogProducer,
    private readonly codec: Codec<DeadLetter>,
    private readonly topic: string,
  ) {}

  async connect(): Promise<void> {}

  async writeBatch(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const records = await Promise.all(
      letters.map(async (letter) => ({ topic: this.topic, key: letter.key, value: await this.codec.encode(letter) })),
    );
    await this.producer.send(records);
  }

  async close(): Promise<void> {}
}

/** JSON form of a dead letter: bytes as base64, and as text when they are valid UTF-8. */
export function deadLetterJson(letter: DeadLetter): Record<string, unknown> {
  const asText = (b: Buffer | null) => {
    if (b === null) return null;
    const text = b.toString('utf8');
    return Buffer.from(text, 'utf8').equals(b) ? text : null;
  };
  return {
    topic: letter.topic,
    partition: letter.partition,
    offset: letter.offset,
    stage: letter.stage,
    error_class: letter.error_class,
    error_message: letter.error_message,
    failed_at: letter.failed_at,
    key_text: asText(letter.key),
    value_text: asText(letter.value),
    key_base64: letter.key?.toString('base64') ?? null,
    value_base64: letter.value?.toString('base64') ?? null,
  };
}

export class FileDeadLetterSink implements Sink<DeadLetter> {
  constructor(private readonly path: string) {}

  async connect(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
  }

  async writeBatch(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await appendFile(this.path, letters.map((l) => `${JSON.stringify(deadLetterJson(l))}\n`).join(''));
  }

  async close(): Promise<void> {}
}

export class ClickHouseDeadLetterSink implements Sink<DeadLetter> {
  constructor(private readonly store: ClickHouseStore) {}

  async connect(): Promise<void> {}

  async writeBatch(letters: DeadLetter[]): Promise<void> {
    await this.store.insert('dead_letters', letters.map(deadLetterRow));
  }

  async close(): Promise<void> {}
}

