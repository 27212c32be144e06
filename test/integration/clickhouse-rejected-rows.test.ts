/**
 * Rows the real ClickHouse refuses for their content: a batch of 1,000
 * labelled-example rows with 3 the server cannot parse (a negative number
 * for an unsigned column, a number too large for Int64, text for a
 * DateTime) goes through ClickHouseTableSink: the 997 others are in the
 * table, and each refused row reaches onRejected alone with the server's
 * own error code, classified `rejected_row` (issue "Unbreakable").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore, labelledExampleRow } from '../../adapters/clickhouse/index.js';
import { insertFailure, serverErrorCode } from '../../adapters/clickhouse/store.js';
import { type DeadLetter, type LabelledExample, noExampleClasses } from '../../core/events.js';
import { ClickHouseTableSink, rejectedRowLetter } from '../../sinks/clickhouse-table.js';
import { uniqueName } from '../support/collect.js';
import { SAMPLES } from '../support/samples.js';
import { requireStack, STACK } from '../support/stack.js';

type Row = ReturnType<typeof labelledExampleRow>;

/**
 * What the server refuses, and the code it says so with (ClickHouse 18.16,
 * the stack's server: `Code: 72` CANNOT_PARSE_NUMBER, `Code: 27`
 * CANNOT_PARSE_INPUT_ASSERTION_FAILED).
 */
const REFUSED: Array<{ index: number; spoil: (row: Row) => object; code: string }> = [
  { index: 3, spoil: (row) => ({ ...row, ts_ms: -1 }), code: '72' },
  { index: 500, spoil: (row) => ({ ...row, label_delay_ms: 1e300 }), code: '27' },
  { index: 998, spoil: (row) => ({ ...row, ts: 'not a time' }), code: '27' },
];

describe('rows the real ClickHouse refuses', () => {
  let store: ClickHouseStore;
  const database = uniqueName('test_rejected').replace(/-/g, '_');

  beforeAll(async () => {
    await requireStack('clickhouse');
    store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000, quiet: true });
  });

  afterAll(async () => {
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('writes the 997 good rows of 1,000 and hands on the 3 refused ones with the server’s error code', async () => {
    const batch: object[] = [];
    for (let i = 0; i < 1_000; i++) {
      const example: LabelledExample = { ...noExampleClasses(), ...SAMPLES.LabelledExample, example_id: `e-${i}`, prediction_id: `p-${i}` };
      batch.push(labelledExampleRow(example, 1));
    }
    for (const { index, spoil } of REFUSED) batch[index] = spoil(batch[index] as Row);

    const letters: DeadLetter[] = [];
    const codes: Array<string | undefined> = [];
    let inserts = 0;
    const counting = { insert: (table: string, rows: object[]) => (inserts++, store.insert(table, rows)) };
    const sink = new ClickHouseTableSink<object>(counting, 'labelled_examples', {
      onRejected: async (row, error) => {
        expect(insertFailure(error)).toBe('rejected_row');
        codes.push(serverErrorCode(error));
        letters.push(rejectedRowLetter('labelled_examples', row, error, Date.now()));
      },
    });
    await sink.writeBatch(batch);

    const [count] = await store.select<{ rows: string; ids: string }>(`SELECT count() AS rows, uniqExact(example_id) AS ids FROM labelled_examples`);
    expect(count).toEqual({ rows: '997', ids: '997' });
    const refusedIds = REFUSED.map((r) => `e-${r.index}`);
    const present = await store.select<{ n: string }>(`SELECT count() AS n FROM labelled_examples WHERE example_id IN (${refusedIds.map((id) => `'${id}'`).join(', ')})`);
    expect(present).toEqual([{ n: '0' }]);

    expect(codes).toEqual(REFUSED.map((r) => r.code));
    // Halving: at most two inserts per refused row on each of the ⌈log2 1,000⌉ = 10 levels, and the first.
    expect(inserts).toBeLessThanOrEqual(1 + 2 * 3 * 10);
    expect(letters.map((l) => JSON.parse(l.value!.toString('utf8')).example_id)).toEqual(refusedIds);
    for (const letter of letters) {
      expect(letter).toMatchObject({ topic: 'clickhouse:labelled_examples', stage: 'clickhouse:labelled_examples', error_class: 'clickhouse_rejected', partition: -1, offset: -1 });
      expect(letter.error_message).toMatch(/^clickhouse: insert into labelled_examples \(1 rows\) failed: Code: \d+/);
    }
  });
});
