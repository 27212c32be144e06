/**
 * The pure parts behind the /v1 API: ClickHouse parameters bound by type
 * (never pasted), the feedback list's keyset pages and cursors, the
 * statistics from feedback_stats rows (hand-computed), what the challengers
 * have not learned yet (its queries, the learner's position, the answer), the
 * field a contract violation or a schema problem names.
 */
import { describe, expect, it } from 'vitest';
import { bindParams } from '../../adapters/clickhouse/index.js';
import { fieldProblem, pointerPath } from '../../adapters/http/api/validation.js';
import { contractField } from '../../core/contract-field.js';
import { ValidationError } from '../../core/errors.js';
import { validateFeedback, validatePrediction } from '../../core/events.js';
import { buildConfig } from '../../adapters/config/index.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { FeedbackloopError } from '../../core/errors.js';
import { backlogQueries, decodeCursor, encodeCursor, feedbackStats, learnerSource, learningBacklog, listQuery, statsQueries } from '../../runtime/api/index.js';

describe('bindParams', () => {
  it('binds strings as escaped literals and integers by their type, in one pass', () => {
    expect(bindParams('SELECT {a:String}, {n:UInt32}, {a:String}', { a: "it's \\ {n:UInt32}", n: 7 })).toBe("SELECT 'it\\'s \\\\ {n:UInt32}', 7, 'it\\'s \\\\ {n:UInt32}'");
    expect(bindParams('x = {v:Int64}', { v: -3 })).toBe('x = -3');
    expect(bindParams('{a:Float64}, {b:Float64}, {c:Float64}', { a: 1e150, b: -0.25, c: 1e9 })).toBe('1e+150, -0.25, 1000000000');
  });

  it('refuses a missing value, a wrong type, a number out of range or not an integer, an unknown type', () => {
    expect(() => bindParams('{a:String}', {})).toThrow('query parameter a has no value');
    expect(() => bindParams('{a:String}', { a: 1 })).toThrow('query parameter a must be a string');
    expect(() => bindParams('{n:UInt64}', { n: '1 OR 1=1' })).toThrow('query parameter n must be a UInt64, got 1 OR 1=1');
    expect(() => bindParams('{n:UInt64}', { n: -1 })).toThrow('must be a UInt64, got -1');
    expect(() => bindParams('{n:UInt32}', { n: 1.5 })).toThrow('must be a UInt32, got 1.5');
    expect(() => bindParams('{n:UInt32}', { n: 2 ** 32 })).toThrow('must be a UInt32, got 4294967296');
    expect(() => bindParams('{d:Date}', { d: 1 })).toThrow('query parameter d: type Date is not supported');
    expect(() => bindParams('{d:Float64}', { d: Number.POSITIVE_INFINITY })).toThrow('query parameter d must be a finite Float64, got Infinity');
    expect(() => bindParams('{d:Float64}', { d: '1' })).toThrow('query parameter d must be a finite Float64, got 1');
    // An inherited name is not a parameter.
    expect(() => bindParams('{toString:String}', {})).toThrow('query parameter toString has no value');
  });
});

describe('the feedback list query', () => {
  it('adds a fixed condition per filter, user values only as placeholders, and asks one row more than the page', () => {
    const { sql, params } = listQuery({ model: "fraud' OR 1=1 --", source: 'analyst-17', feedback_type: 'EXPERT_REVIEW', from: 1000, to: 2000, limit: 50 });
    expect(sql).not.toContain('fraud');
    expect(sql).toContain("WHERE feedback_type != ''\n  AND isNotNull(feedback_ts_ms)\n  AND model = {model:String}\n  AND source = {source:String}\n  AND feedback_type = {feedback_type:String}\n  AND feedback_ts_ms >= {from:UInt64}\n  AND feedback_ts_ms < {to:UInt64}\nORDER BY feedback_ts_ms, model, example_id\nLIMIT {limit:UInt32}");
    expect(params).toEqual({ limit: 51, model: "fraud' OR 1=1 --", source: 'analyst-17', feedback_type: 'EXPERT_REVIEW', from: 1000, to: 2000 });
    expect(bindParams(sql, params)).toContain("model = 'fraud\\' OR 1=1 --'");
  });

  it('continues after the cursor, which it reads back exactly; anything else is a 400 on cursor', () => {
    const cursor = encodeCursor([1764950400000, 'fraud', 'tx-9#1']);
    expect(decodeCursor(cursor)).toEqual([1764950400000, 'fraud', 'tx-9#1']);
    const { sql, params } = listQuery({ limit: 10, cursor });
    expect(sql).toContain('(feedback_ts_ms > {after_ts:UInt64} OR (feedback_ts_ms = {after_ts:UInt64} AND (model > {after_model:String} OR (model = {after_model:String} AND example_id > {after_id:String}))))');
    expect(params).toEqual({ limit: 11, after_ts: 1764950400000, after_model: 'fraud', after_id: 'tx-9#1' });
    for (const bad of ['x', encodeCursor([-1, 'a', 'b']), Buffer.from('[1,"a"]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ status: 400, details: { field: 'cursor' } }));
    }
  });
});

const BACKLOG = learningBacklog({ position: { topic: 'labelled-examples', group: 'fl-learner', partition: 0, offset: 40 }, examples: 3, configured: ['logreg'], snapshots: [] });

describe('the feedback statistics', () => {
  it('queries feedback_stats of one model from the UTC day of `from` to `to`', () => {
    const q = statsQueries("o'brien", { from: Date.UTC(2025, 11, 3, 15), to: Date.UTC(2025, 11, 10) });
    expect(q.types).toBe(`SELECT feedback_type, sum(labels) AS labels, sum(corrections) AS corrections, sum(overturned_by_expert) AS overturned_by_expert
FROM feedback_stats FINAL WHERE model = 'o\\'brien' AND day_ms >= ${Date.UTC(2025, 11, 3)} AND day_ms < ${Date.UTC(2025, 11, 10)} GROUP BY feedback_type ORDER BY feedback_type`);
    expect(q.days).toContain('GROUP BY day_ms ORDER BY day_ms DESC LIMIT 366');
    expect(q.sources).toContain("AND source != '' GROUP BY source ORDER BY labels DESC, source LIMIT 10");
  });

  it('sums by type, counts user labels and those experts overturned, lists days oldest first', () => {
    const day1 = Date.UTC(2025, 11, 1);
    const day2 = Date.UTC(2025, 11, 2);
    const stats = feedbackStats('fraud', { from: day1 }, {
      types: [
        { feedback_type: 'AUTO_VALIDATED', labels: 50, corrections: 0, overturned_by_expert: 2 },
        { feedback_type: 'EXPERT_REVIEW', labels: 10, corrections: 7, overturned_by_expert: 0 },
        { feedback_type: 'USER_CONFIRMED', labels: 30, corrections: 1, overturned_by_expert: 3 },
        { feedback_type: 'USER_REJECTED', labels: 10, corrections: 0, overturned_by_expert: 2 },
      ],
      days: [
        { day_ms: day2, labels: 40, corrections: 5, confirmed: 10, rejected: 4 },
        { day_ms: day1, labels: 60, corrections: 3, confirmed: 20, rejected: 6 },
      ],
      sources: [{ source: 'analyst-17', labels: 10, corrections: 7, overturned: 0, overturned_by_expert: 0 }],
    }, BACKLOG);
    expect(stats).toEqual({
      model: 'fraud', from: '2025-12-01T00:00:00.000Z', to: null,
      totals: {
        labels: 100, corrections: 8,
        by_type: { AUTO_VALIDATED: { labels: 50, corrections: 0 }, EXPERT_REVIEW: { labels: 10, corrections: 7 }, USER_CONFIRMED: { labels: 30, corrections: 1 }, USER_REJECTED: { labels: 10, corrections: 0 } },
      },
      confirmed: 30, rejected: 10,
      // 3 + 2 of the 40 user labels: 5 / 40.
      user_feedback: { labels: 40, overturned_by_expert: 5, overturned_by_expert_rate: 0.125 },
      by_day: [
        { day: '2025-12-01', labels: 60, corrections: 3, confirmed: 20, rejected: 6 },
        { day: '2025-12-02', labels: 40, corrections: 5, confirmed: 10, rejected: 4 },
      ],
      top_contributors: [{ source: 'analyst-17', labels: 10, corrections: 7, overturned: 0, overturned_by_expert: 0 }],
      not_yet_learned: BACKLOG,
    });
    expect(feedbackStats('none', {}, { types: [], days: [], sources: [] }, BACKLOG).user_feedback).toEqual({ labels: 0, overturned_by_expert: 0, overturned_by_expert_rate: null });
  });
});

describe('what the challengers have not learned yet', () => {
  it('counts the learnable rows from the committed offset on, as the trainer decides, and reads each challenger\'s newest snapshot', () => {
    const q = backlogQueries("o'brien", 1200, { trainOnCorrections: true, maxFeatureMagnitude: 1e9 });
    expect(q.examples).toBe(`SELECT count() AS examples
FROM labelled_examples FINAL
WHERE model = 'o\\'brien'
  AND version >= 1200
  AND isNotNull(label)
  AND abs(label) <= 1000000000
  AND NOT arrayExists(v -> abs(v) > 1000000000, feature_values)`);
    expect(q.snapshots).toBe(`SELECT challenger,
  argMax(version, (created_at_ms, training_count)) AS latest_version,
  argMax(training_count, (created_at_ms, training_count)) AS latest_training_count,
  max(created_at_ms) AS latest_created_at_ms
FROM model_versions FINAL
WHERE model = 'o\\'brien'
GROUP BY challenger
ORDER BY challenger
LIMIT 100`);
    // learner.train_on_corrections: false skips corrections; the bound is the config's.
    const strict = backlogQueries('fraud', 0, { trainOnCorrections: false, maxFeatureMagnitude: 1e150 });
    expect(strict.examples).toContain("AND version >= 0\n  AND isNotNull(label)\n  AND correction_of = ''\n  AND abs(label) <= 1e+150\n");
  });

  it('lists the trained challengers with the count and their newest snapshot, then those no longer trained', () => {
    const backlog = learningBacklog({
      position: { topic: 'labelled-examples', group: 'fl-learner', partition: 2, offset: 1200 },
      examples: 17,
      configured: ['logreg', 'ftrl'],
      snapshots: [
        { challenger: 'adagrad', latest_version: 'fraud/adagrad@4', latest_training_count: 900, latest_created_at_ms: Date.UTC(2025, 11, 1) },
        { challenger: 'logreg', latest_version: 'fraud/logreg@12', latest_training_count: 1183, latest_created_at_ms: Date.UTC(2025, 11, 2, 9) },
      ],
    });
    expect(backlog).toEqual({
      topic: 'labelled-examples', partition: 2, learner_group: 'fl-learner', committed_offset: 1200, examples: 17,
      challengers: [
        { challenger: 'logreg', trained: true, examples: 17, latest_snapshot: { version: 'fraud/logreg@12', training_count: 1183, created_at: '2025-12-02T09:00:00.000Z' } },
        { challenger: 'ftrl', trained: true, examples: 17, latest_snapshot: null },
        { challenger: 'adagrad', trained: false, examples: null, latest_snapshot: { version: 'fraud/adagrad@4', training_count: 900, created_at: '2025-12-01T00:00:00.000Z' } },
      ],
      note: null,
    });
  });

  it('says why: nothing committed, no topic, Kafka unreadable (not counted), no challenger trained', () => {
    const at = { topic: 'labelled-examples', group: 'fl-learner' };
    expect(learningBacklog({ position: { ...at, partition: 1, offset: null }, examples: 5, configured: ['logreg'], snapshots: [] }).note)
      .toBe('the learner (group fl-learner) has committed nothing on partition 1 of labelled-examples: every learnable example counts');
    expect(learningBacklog({ position: { ...at, partition: null, offset: null }, examples: 0, configured: ['logreg'], snapshots: [] }).note)
      .toBe('topic labelled-examples does not exist yet: no labelled example was written');
    const down = learningBacklog({ position: { ...at, partition: null, offset: null, problem: 'cannot read topic labelled-examples on Kafka: timeout' }, examples: null, configured: [], snapshots: [] });
    expect([down.examples, down.challengers, down.note]).toEqual([null, [], 'not counted: cannot read topic labelled-examples on Kafka: timeout; the learner trains no challenger of this model (models.<name>.challengers: [none])']);
  });

  it('reads the learner group\'s committed offset on the model\'s murmur2 partition, with the learner\'s settings', async () => {
    const config = buildConfig({
      kafka: { client_id: 'fl' },
      learner: { train_on_corrections: false, max_feature_magnitude: 5e6 },
      models: { churn: { task: 'regression' }, fraud: { challengers: ['logreg', 'ftrl'] } },
    });
    const transport = new MemoryTransport();
    await transport.ensureTopics([{ name: config.topics.labelled_examples, partitions: 3 }]);
    // kafkajs's DefaultPartitioner (Java's murmur2) puts key "fraud" on partition 1 of 3, "churn" on 2.
    transport.commitOffsets('fl-learner', [{ topic: config.topics.labelled_examples, partition: 1, offset: 1200 }]);
    const source = learnerSource(config, transport);
    expect(await source.position('fraud')).toEqual({ topic: 'labelled-examples', group: 'fl-learner', partition: 1, offset: 1200 });
    expect(await source.position('churn')).toEqual({ topic: 'labelled-examples', group: 'fl-learner', partition: 2, offset: null });
    expect(source.rules()).toEqual({ trainOnCorrections: false, maxFeatureMagnitude: 5e6 });
    expect([source.challengers('fraud'), source.challengers('churn'), source.challengers('other')]).toEqual([['logreg', 'ftrl'], ['linreg'], ['logreg']]);

    const missing = learnerSource(config, { partitionCount: async () => { throw new FeedbackloopError('topic labelled-examples does not exist'); }, committedOffsets: async () => [] });
    expect(await missing.position('fraud')).toEqual({ topic: 'labelled-examples', group: 'fl-learner', partition: null, offset: null });
    const refused = learnerSource(config, { partitionCount: async () => { throw new FeedbackloopError('cannot read metadata of topic labelled-examples: Not authorized to access topics', { retriable: false }); }, committedOffsets: async () => [] });
    expect(await refused.position('fraud')).toEqual({
      topic: 'labelled-examples', group: 'fl-learner', partition: null, offset: null,
      problem: 'cannot read topic labelled-examples on Kafka: cannot read metadata of topic labelled-examples: Not authorized to access topics',
    });
    const down = learnerSource(config, { partitionCount: async () => 3, committedOffsets: async () => { throw new Error('coordinator not available'); } });
    expect(await down.position('fraud')).toEqual({
      topic: 'labelled-examples', group: 'fl-learner', partition: 1, offset: null, problem: 'cannot read the committed offsets of group fl-learner on Kafka: coordinator not available',
    });
  });
});

describe('the field a problem names', () => {
  const messageOf = (check: () => unknown) => {
    try {
      check();
    } catch (error) {
      if (error instanceof ValidationError) return error.message;
    }
    throw new Error('expected a ValidationError');
  };
  const base = { prediction_id: 'p', model: 'm', model_version: 'v', timestamp: 1, features: {}, score: 0.5 };

  it('reads it from the contract validators\' messages', () => {
    expect(contractField(messageOf(() => validatePrediction({ ...base, features: { a: Number.NaN } })))).toBe('features.a');
    expect(contractField(messageOf(() => validatePrediction({ ...base, model: 'x'.repeat(300) })))).toBe('model');
    expect(contractField(messageOf(() => validatePrediction({ ...base, segments: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`s${i}`, 'v'])) })))).toBe('segments');
    expect(contractField(messageOf(() => validateFeedback({ prediction_id: 'p', timestamp: 1, feedback_type: 'USER_CONFIRMED', uncertain: 'yes' })))).toBe('uncertain');
    expect(contractField(messageOf(() => validatePrediction('nope')))).toBe('');
  });

  it('turns ajv\'s problems into a path, skipping the `if` that only says a branch failed', () => {
    expect(pointerPath('/events/3/features/a~1b~0c')).toBe('events[3].features.a/b~c');
    expect(pointerPath('')).toBe('');
    expect(fieldProblem([
      { keyword: 'required', instancePath: '/events/0', params: { missingProperty: 'score' }, message: "must have required property 'score'" },
      { keyword: 'if', instancePath: '', params: { failingKeyword: 'then' }, message: 'must match "then" schema' },
    ], 'body')).toEqual({ error: 'validation', field: 'events[0].score', message: 'events[0].score is required' });
    expect(fieldProblem([{ keyword: 'type', instancePath: '', params: {}, message: 'must be object' }], 'body')).toEqual({ error: 'validation', field: '', message: 'body must be object' });
    expect(fieldProblem([{ keyword: 'maximum', instancePath: '/limit', params: {}, message: 'must be <= 1000' }], 'querystring')).toEqual({ error: 'validation', field: 'limit', message: 'querystring limit must be <= 1000' });
  });
});
