/**
 * A record of the in-process log whose bytes are made when first read: the
 * replay's labelled examples, which every reader there takes from `decoded`
 * (processors/decode.ts), so most are never encoded. `value` encodes once
 * and keeps the bytes; `valueLength` weighs them without encoding (the
 * evaluator's flush by bytes). Equal, byte for byte, to the record the
 * eager path writes (OutgoingRecord.lazyValue; test/unit/lazy-record.test.ts).
 */
import type { LazyValue, LogRecord, ValidatedCopy } from './transport.js';

export class LazyRecord implements LogRecord {
  private bytes: Buffer | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    public offset: number,
    readonly key: Buffer | null,
    private readonly lazy: LazyValue,
    readonly timestamp: number,
    readonly headers: Record<string, string>,
    readonly decoded: unknown,
    public validated: ValidatedCopy | undefined,
  ) {}

  get value(): Buffer {
    return (this.bytes ??= this.lazy.encode());
  }

  valueLength(): number {
    return this.bytes ? this.bytes.length : this.lazy.length();
  }
}
