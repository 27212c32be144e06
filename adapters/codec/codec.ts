/**
 * Codecs turn events into record bytes and back, in the Confluent wire
 * format: magic byte 0, a 4-byte big-endian schema id, then the Avro body.
 *
 * - RegistryCodec: ids come from a Confluent-compatible schema registry
 *   (production, and the integration tests).
 * - LocalCodec: ids are fixed local numbers for our own schemas (the
 *   in-process log, where no registry runs). Same framing, same errors.
 *
 * decode() throws DecodeError (not retriable: dead-letter the record) for
 * bytes that are not ours to read, and a retriable FeedbackloopError when
 * the registry cannot be reached (pause and retry, never dead-letter).
 */
import avro from 'avsc';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { DecodeError, FeedbackloopError } from '../../core/errors.js';
import { redactUrlsIn } from '../../core/redact.js';
import { retry } from '../../core/retry.js';
import { sizerOf, type Sizer } from './avro-size.js';
import { explainInvalid, loadSchema, SCHEMA_NAMES, type SchemaName } from './schemas.js';

export interface Codec<T> {
  readonly schema: SchemaName;
  encode(value: T): Promise<Buffer>;
  decode(bytes: Buffer | null): Promise<T>;
  /**
   * The same bytes as encode(), made now: only a codec that needs nothing
   * outside the process (LocalCodec) has it. The in-process log's lazily
   * encoded records use it (adapters/transport/memory.ts).
   */
  encodeNow?(value: T): Buffer;
  /** The length of encode()'s bytes without making them (LocalCodec; undefined where it cannot tell). */
  encodedLength?(value: T): number;
}

export const MAGIC_BYTE = 0;
const HEADER_LENGTH = 5;

function frame(id: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
  out.writeUInt8(MAGIC_BYTE, 0);
  out.writeInt32BE(id, 1);
  body.copy(out, HEADER_LENGTH);
  return out;
}

function schemaIdOf(bytes: Buffer | null): number {
  if (bytes === null) throw new DecodeError('record has no value (null)');
  if (bytes.length < HEADER_LENGTH) {
    throw new DecodeError(`record is ${bytes.length} bytes, too short for the Confluent wire format (5-byte header)`);
  }
  if (bytes[0] !== MAGIC_BYTE) {
    throw new DecodeError(`record does not start with the Confluent magic byte 0 (got 0x${bytes[0]!.toString(16).padStart(2, '0')})`);
  }
  return bytes.readInt32BE(1);
}

function encodeBody(type: avro.Type, schema: SchemaName, value: unknown): Buffer {
  const problem = explainInvalid(type, value);
  if (problem) throw new FeedbackloopError(`cannot encode ${schema}: ${problem}`);
  return type.toBuffer(value);
}

function decodeBody<T>(reader: avro.Type, resolver: avro.Resolver | undefined, bytes: Buffer, schema: SchemaName): T {
  try {
    return reader.fromBuffer(bytes.subarray(HEADER_LENGTH), resolver) as T;
  } catch (error) {
    throw new DecodeError(`cannot decode ${schema}: ${(error as Error).message}`, 'decode', error);
  }
}

/** Fixed local ids for the in-process log: 1-based index in SCHEMA_NAMES. */
export class LocalCodec<T> implements Codec<T> {
  private readonly id: number;
  private readonly type: avro.Type;
  private readonly sizer: Sizer | undefined;

  constructor(readonly schema: SchemaName) {
    this.id = SCHEMA_NAMES.indexOf(schema) + 1;
    this.type = loadSchema(schema).type;
    this.sizer = sizerOf(this.type);
  }

  async encode(value: T): Promise<Buffer> {
    return this.encodeNow(value);
  }

  encodeNow(value: T): Buffer {
    return frame(this.id, encodeBody(this.type, this.schema, value));
  }

  encodedLength(value: T): number {
    return this.sizer ? HEADER_LENGTH + this.sizer(value) : this.encodeNow(value).length;
  }

  async decode(bytes: Buffer | null): Promise<T> {
    const id = schemaIdOf(bytes);
    if (id !== this.id) {
      const other = SCHEMA_NAMES[id - 1];
      throw new DecodeError(
        other ? `expected a ${this.schema} record, got schema ${id} (${other})` : `unknown schema id ${id}`,
        'unknown_schema',
      );
    }
    return decodeBody<T>(this.type, undefined, bytes!, this.schema);
  }
}

/** A value and the codec that encodes it when asked (OutgoingRecord.lazyValue): one object per record, no closures. */
export class LazyEncoding<T> {
  private constructor(
    private readonly codec: Required<Pick<Codec<T>, 'encodeNow' | 'encodedLength'>>,
    private readonly event: T,
  ) {}

  /** A lazy encoding of `event`, or undefined when `codec` cannot encode without waiting (a registry). */
  static of<T>(codec: Codec<T>, event: T): LazyEncoding<T> | undefined {
    return codec.encodeNow && codec.encodedLength ? new LazyEncoding(codec as Required<Pick<Codec<T>, 'encodeNow' | 'encodedLength'>>, event) : undefined;
  }

  encode(): Buffer {
    return this.codec.encodeNow(this.event);
  }

  length(): number {
    return this.codec.encodedLength(this.event);
  }
}

function httpStatus(error: unknown): number | undefined {
  const e = error as { status?: unknown; response?: { status?: () => number } };
  if (typeof e?.status === 'number') return e.status;
  return undefined;
}

/**
 * Confluent wire format with a real schema registry. The writer schema is
 * registered under `subject` (TopicNameStrategy: `<topic>-value`) on the
 * first encode; decode resolves any writer schema the registry knows into
 * our reader schema (schema evolution).
 */
export class RegistryCodec<T> implements Codec<T> {
  private readonly reader: avro.Type;
  private readonly text: string;
  private writerId: Promise<number> | undefined;
  private readonly resolvers = new Map<number, Promise<avro.Resolver | undefined>>();

  constructor(
    private readonly registry: SchemaRegistry,
    readonly schema: SchemaName,
    private readonly subject: string,
  ) {
    const loaded = loadSchema(schema);
    this.reader = loaded.type;
    this.text = loaded.text;
  }

  /**
   * Registers the schema (idempotent) and returns its id. Two processes
   * registering a new subject at once race inside the registry (Apicurio
   * answers the loser 409 "rule ... already exists"); such a conflict is
   * retried a few times, while an incompatible schema (409 too, but saying
   * so) fails at once.
   */
  register(): Promise<number> {
    if (!this.writerId) {
      this.writerId = retry(() => this.registerOnce(), { retries: 5, initialDelayMs: 50, maxDelayMs: 1_000 }).catch((error: unknown) => {
        this.writerId = undefined;
        throw error;
      });
    }
    return this.writerId;
  }

  private async registerOnce(): Promise<number> {
    try {
      const r = await this.registry.register({ type: SchemaType.AVRO, schema: this.text }, { subject: this.subject });
      return r.id;
    } catch (error) {
      const status = httpStatus(error);
      // mappersmith's messages may quote the registry's URL: never with its credentials.
      const message = redactUrlsIn((error as Error).message);
      const race = status === 409 && !/incompatib/i.test(message);
      throw new FeedbackloopError(`schema registry: cannot register ${this.schema} under ${this.subject}: ${message}`, {
        retriable: race || status === undefined || status >= 500,
        cause: error,
      });
    }
  }

  async encode(value: T): Promise<Buffer> {
    const id = await this.register();
    return frame(id, encodeBody(this.reader, this.schema, value));
  }

  async decode(bytes: Buffer | null): Promise<T> {
    const id = schemaIdOf(bytes);
    const resolver = await this.resolverFor(id);
    return decodeBody<T>(this.reader, resolver, bytes!, this.schema);
  }

  private resolverFor(id: number): Promise<avro.Resolver | undefined> {
    let pending = this.resolvers.get(id);
    if (!pending) {
      pending = this.fetchResolver(id);
      this.resolvers.set(id, pending);
      // Do not cache failures: a registry that was down may answer later.
      pending.catch(() => this.resolvers.delete(id));
    }
    return pending;
  }

  private async fetchResolver(id: number): Promise<avro.Resolver | undefined> {
    let writerSchema: unknown;
    try {
      const fetched = (await this.registry.getSchema(id)) as unknown as avro.Type;
      writerSchema = typeof fetched.schema === 'function' ? fetched.schema() : fetched;
    } catch (error) {
      const status = httpStatus(error);
      if (status === 404) throw new DecodeError(`schema id ${id} is unknown to the schema registry`, 'unknown_schema', error);
      throw new FeedbackloopError(`schema registry: cannot fetch schema ${id}: ${redactUrlsIn((error as Error).message)}`, {
        retriable: status === undefined || status >= 500,
        cause: error,
      });
    }
    const writer = avro.Type.forSchema(writerSchema as avro.Schema);
    if (writer.equals(this.reader)) return undefined;
    try {
      return this.reader.createResolver(writer);
    } catch (error) {
      throw new DecodeError(`schema id ${id} cannot be read as ${this.schema}: ${(error as Error).message}`, 'unknown_schema', error);
    }
  }
}
