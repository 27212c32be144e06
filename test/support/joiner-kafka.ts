/**
 * Kafka side of the joiner's integration tests: topics, encoding a seeded
 * stream into records, watching the joiner's consumer group catch up, and
 * reading back and checking what it committed to its output topics.
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { AssignerProtocol, type Admin } from 'kafkajs';
import { RegistryCodec, type Codec } from '../../adapters/codec/codec.js';
import { retryBrokerFaults } from '../../adapters/kafka/errors.js';
import type { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { LogRecord, OutgoingRecord, TopicSpec } from '../../adapters/transport/transport.js';
import { type DeadLetter, type Feedback, type LabelledExample, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { DAY, JOINER_OPTIONS, JoinerProcess, type PipelineTopics } from './joiner-process.js';
import {
  canonicalJson, expectedJoin, generateJoinStream, interleavingProblems, normalizeReason, sideOf, tickEvents, type ExpectedJoin, type GarbageForm, type InputSide, type StreamEvent,
} from './streams.js';

export function pipelineTopicSpecs(topics: PipelineTopics, partitions: number): TopicSpec[] {
  return [
    { name: topics.predictions, partitions },
    { name: topics.feedback, partitions },
    { name: topics.labelled, partitions },
    { name: topics.snapshots, partitions, compacted: true },
    { name: topics.promotions, partitions, keepForever: true }, // as run creates it (runtime/pipeline.ts topicSpecs)
    { name: topics.deadLetters, partitions },
    { name: topics.unmatched, partitions },
    { name: topics.changelog, partitions, compacted: true },
    { name: topics.checkpoints, partitions, compacted: true },
    { name: topics.evaluatorCheckpoints, partitions, compacted: true },
  ];
}

export interface JoinerCodecs {
  prediction: Codec<Prediction>;
  feedback: Codec<Feedback>;
  labelled: Codec<LabelledExample>;
  deadLetter: Codec<DeadLetter>;
}

/** The codecs `feedbackloop run` uses for these topics (TopicNameStrategy subjects). */
export function joinerCodecs(registry: SchemaRegistry, topics: PipelineTopics): JoinerCodecs {
  return {
    prediction: new RegistryCodec<Prediction>(registry, 'Prediction', `${topics.predictions}-value`),
    feedback: new RegistryCodec<Feedback>(registry, 'Feedback', `${topics.feedback}-value`),
    labelled: new RegistryCodec<LabelledExample>(registry, 'LabelledExample', `${topics.labelled}-value`),
    deadLetter: new RegistryCodec<DeadLetter>(registry, 'DeadLetter', `${topics.deadLetters}-value`),
  };
}

export const GARBAGE_ERROR_CLASS: Record<GarbageForm, string> = { 'not-avro': 'decode', truncated: 'decode', 'unknown-schema': 'unknown_schema' };

/** The bytes of a garbage record (distinct per key, so each dead letter can be matched to its record). */
export async function garbageBytes(form: GarbageForm, side: InputSide, key: string, codecs: JoinerCodecs): Promise<Buffer> {
  switch (form) {
    case 'not-avro':
      return Buffer.from(`garbage ${key}`, 'utf8');
    case 'unknown-schema':
      return Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from(key, 'utf8')]);
    case 'truncated': {
      // A real record of the topic's schema cut after its first bytes: the header is right, the body is not.
      const id = `${key}-with-a-long-enough-id`;
      const whole =
        side === 'predictions'
          ? await codecs.prediction.encode({ prediction_id: id, model: 'm', model_version: 'v', timestamp: 0, features: {}, categorical: {}, segments: {}, score: 0.5, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() })
          : await codecs.feedback.encode({ prediction_id: id, timestamp: 0, feedback_type: 'USER_CONFIRMED', label: null, uncertain: false, source: null, notes: null, ...noFeedbackClasses() });
      return whole.subarray(0, 9);
    }
  }
}

/** The records to send for `events`, in order: Avro through the registry, keyed by prediction_id. */
export async function encodeEvents(events: StreamEvent[], codecs: JoinerCodecs, topics: PipelineTopics): Promise<OutgoingRecord[]> {
  const out: OutgoingRecord[] = [];
  for (const event of events) {
    const topic = sideOf(event) === 'predictions' ? topics.predictions : topics.feedback;
    const value =
      event.kind === 'prediction'
        ? await codecs.prediction.encode(event.value)
        : event.kind === 'feedback'
          ? await codecs.feedback.encode(event.value)
          : await garbageBytes(event.form, event.topic, event.key, codecs);
    const record: OutgoingRecord = { topic, key: Buffer.from(event.key, 'utf8'), value };
    if (event.partition !== undefined) record.partition = event.partition;
    out.push(record);
  }
  return out;
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends records in chunks with a pause between sends, holding back those from
 * index `held` on until release() is called: a stop or kill made before the
 * release always falls mid-stream, however fast the consumers catch up.
 * `done` resolves once everything is sent; `producedAt()` is then its time (0 before).
 */
export function produceHeldBack(
  producer: { send(records: OutgoingRecord[]): Promise<unknown> },
  records: OutgoingRecord[],
  options: { chunk: number; pauseMs: number; held: number },
): { done: Promise<void>; release: () => void; producedAt: () => number } {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let producedAt = 0;
  const send = async (part: OutgoingRecord[]) => {
    for (const chunk of chunks(part, options.chunk)) {
      await producer.send(chunk);
      await sleep(options.pauseMs);
    }
  };
  const done = (async () => {
    await send(records.slice(0, options.held));
    await released;
    await send(records.slice(options.held));
    producedAt = Date.now();
  })();
  done.catch(() => {});
  return { done, release, producedAt: () => producedAt };
}

/** Offsets of a consumer group against the end of its input topics. */
export class GroupProgress {
  constructor(
    private readonly admin: Admin,
    readonly groupId: string,
    readonly topics: string[],
  ) {}

  /** Committed offset per `topic/partition` (0 when nothing is committed). */
  async committed(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    // Retried: right after a broker restart the coordinator answers "loading" or "not the coordinator" for a while.
    const offsets = await retryBrokerFaults(() => this.admin.fetchOffsets({ groupId: this.groupId, topics: this.topics }));
    for (const t of offsets) {
      for (const p of t.partitions) out.set(`${t.topic}/${p.partition}`, Math.max(0, Number(p.offset)));
    }
    return out;
  }

  /** End offset per `topic/partition` (the input topics are not transactional: the high watermark). */
  async ends(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const topic of this.topics) {
      for (const p of await retryBrokerFaults(() => this.admin.fetchTopicOffsets(topic))) out.set(`${topic}/${p.partition}`, Number(p.high));
    }
    return out;
  }

  async committedTotal(): Promise<number> {
    let sum = 0;
    for (const v of (await this.committed()).values()) sum += v;
    return sum;
  }

  /** Waits until at least `count` records are committed over all partitions (`check` runs at every poll: e.g. fail when a child died). */
  async waitCommitted(count: number, options: { timeoutMs: number; check?: () => void }): Promise<void> {
    const started = Date.now();
    while ((await this.committedTotal()) < count) {
      options.check?.();
      if (Date.now() - started > options.timeoutMs) throw new Error(`group ${this.groupId}: fewer than ${count} records committed after ${options.timeoutMs} ms`);
      await sleep(100);
    }
  }

  /**
   * Waits until the committed offsets reach the end of every input partition; returns how long it took.
   * The ends are read after the commits each time: the joiner forwards misplaced records to its own
   * inputs in the transaction that commits past them, so the inputs may grow while it works.
   */
  async waitCaughtUp(options: { timeoutMs: number; check?: () => void }): Promise<number> {
    const started = Date.now();
    for (;;) {
      options.check?.();
      const committed = await this.committed();
      const ends = await this.ends();
      const behind = [...ends].filter(([tp, end]) => (committed.get(tp) ?? 0) < end);
      if (behind.length === 0) return Date.now() - started;
      if (Date.now() - started > options.timeoutMs) {
        throw new Error(
          `group ${this.groupId} did not catch up within ${options.timeoutMs} ms; behind: ` +
            behind.map(([tp, end]) => `${tp} ${committed.get(tp) ?? 0}/${end}`).join(', '),
        );
      }
      await sleep(200);
    }
  }
}

/**
 * Waits until the end offsets of `topics` (the joiner's outputs) have not
 * moved for `quietMs`: the joiner is idle. Returns how long it took.
 */
export async function waitIdle(admin: Admin, topics: string[], options: { quietMs: number; timeoutMs: number }): Promise<number> {
  const started = Date.now();
  const snapshot = async () => {
    const parts: string[] = [];
    for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) parts.push(`${topic}/${p.partition}=${p.high}`);
    return parts.sort().join(',');
  };
  let last = await snapshot();
  let since = Date.now();
  for (;;) {
    await sleep(250);
    const now = await snapshot();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= options.quietMs) {
      return Date.now() - started;
    }
    if (Date.now() - started > options.timeoutMs) throw new Error(`output topics still moving after ${options.timeoutMs} ms`);
  }
}

/** Waits until `groupId` is Stable with `members` members. */
export async function waitGroupMembers(admin: Admin, groupId: string, members: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    if (group && group.state === 'Stable' && group.members.length === members) return;
    if (Date.now() > deadline) throw new Error(`group ${groupId} did not become Stable with ${members} members within ${timeoutMs} ms (now ${group?.state}, ${group?.members.length} members)`);
    await sleep(200);
  }
}

/**
 * Partitions of `topic` each member of `groupId` holds, by member id (sorted),
 * read once the group is Stable: during a rebalance the broker reports no
 * assignment at all (a member's retried batch can make it rejoin at any time).
 */
export async function groupAssignments(admin: Admin, groupId: string, topic: string, timeoutMs = 30_000): Promise<Map<string, number[]>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    if (group?.state === 'Stable') {
      const out = new Map<string, number[]>();
      for (const member of group.members) {
        const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        out.set(member.memberId, [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b));
      }
      return out;
    }
    if (Date.now() > deadline) throw new Error(`group ${groupId} not Stable within ${timeoutMs} ms (now ${group?.state})`);
    await sleep(100);
  }
}

/** Every committed record of `topic` (read_committed, up to the last stable offset). */
export async function readTopic(transport: KafkaTransport, topic: string, partitions: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  await transport.readToEnd(topic, Array.from({ length: partitions }, (_, p) => p), (records) => {
    for (const r of records) out.push(r); // a fetch may hold many records: no spread into a call
  });
  return out;
}

/** Differences between two multisets of strings (first few of each kind, and how many). */
export function multisetDiff(expected: string[], actual: string[], show = 5): { missing: string[]; extra: string[]; missingCount: number; extraCount: number } {
  const counts = new Map<string, number>();
  for (const e of expected) counts.set(e, (counts.get(e) ?? 0) + 1);
  const extra: string[] = [];
  for (const a of actual) {
    const c = counts.get(a) ?? 0;
    if (c > 0) counts.set(a, c - 1);
    else extra.push(a);
  }
  const missing: string[] = [];
  for (const [e, c] of counts) for (let i = 0; i < c; i++) missing.push(e);
  return { missing: missing.slice(0, show), extra: extra.slice(0, show), missingCount: missing.length, extraCount: extra.length };
}

export interface OutputCheck {
  examples: { expected: number; actual: number; duplicateIds: string[]; missingIds: string[]; extraIds: string[]; differing: string[]; wrongKeys: number; danglingCorrections: string[] };
  unmatched: ReturnType<typeof multisetDiff> & { expected: number; actual: number; withoutReason: number };
  deadLetters: ReturnType<typeof multisetDiff> & { expected: number; actual: number };
}

const SUFFIX_EARLY = ' (feedback rejected when its prediction arrived)';

/**
 * Reads the joiner's three output topics (committed records only) and
 * compares them with `expected`:
 *  - labelled examples: no example_id twice, none missing, none extra, each
 *    equal field by field to the expected one, keyed by model, and every
 *    correction_of naming an example that exists;
 *  - unmatched feedback: the same multiset of Feedback events, each with a reason header;
 *  - dead letters: garbage records once each (topic, partition, key, error
 *    class, the exact bytes), rejected events once each (topic, partition,
 *    key, class `validation`, the reason; a rejected feedback that waited for
 *    its prediction carries a suffix saying so, stripped here).
 */
export async function checkJoinerOutput(options: {
  transport: KafkaTransport;
  topics: PipelineTopics;
  partitions: number;
  codecs: JoinerCodecs;
  expected: ExpectedJoin;
  garbage: Map<string, Buffer>;
}): Promise<OutputCheck> {
  const { transport, topics, partitions, codecs, expected } = options;

  const labelled = await readTopic(transport, topics.labelled, partitions);
  const byId = new Map<string, LabelledExample>();
  const duplicateIds: string[] = [];
  let wrongKeys = 0;
  for (const record of labelled) {
    const example = await codecs.labelled.decode(record.value);
    if (record.key?.toString('utf8') !== example.model) wrongKeys++;
    if (byId.has(example.example_id)) duplicateIds.push(example.example_id);
    else byId.set(example.example_id, example);
  }
  const missingIds = [...expected.examples.keys()].filter((id) => !byId.has(id));
  const extraIds = [...byId.keys()].filter((id) => !expected.examples.has(id));
  const differing: string[] = [];
  for (const [id, example] of byId) {
    const want = expected.examples.get(id);
    if (want && canonicalJson(want) !== canonicalJson(example)) differing.push(`${id}: expected ${canonicalJson(want)} got ${canonicalJson(example)}`);
  }
  const danglingCorrections = [...byId.values()].filter((e) => e.correction_of !== null && !byId.has(e.correction_of)).map((e) => e.example_id);

  const unmatchedRecords = await readTopic(transport, topics.unmatched, partitions);
  const unmatched: string[] = [];
  let withoutReason = 0;
  for (const record of unmatchedRecords) {
    unmatched.push(canonicalJson(await codecs.feedback.decode(record.value)));
    if (!record.headers.reason) withoutReason++;
  }

  const sideByTopic: Record<string, InputSide> = { [topics.predictions]: 'predictions', [topics.feedback]: 'feedback' };
  const letters: string[] = [];
  for (const record of await readTopic(transport, topics.deadLetters, partitions)) {
    const letter = await codecs.deadLetter.decode(record.value);
    const side = sideByTopic[letter.topic] ?? letter.topic;
    const key = letter.key?.toString('utf8') ?? '';
    if (letter.error_class === 'validation') {
      const reason = letter.error_message.endsWith(SUFFIX_EARLY) ? letter.error_message.slice(0, -SUFFIX_EARLY.length) : letter.error_message;
      letters.push(`${side}|${letter.partition}|${key}|validation|${normalizeReason(reason)}|${letter.stage}|${letter.value === null ? 'no value' : 'value'}`);
    } else {
      const valueOk = letter.value !== null && options.garbage.get(key)?.equals(letter.value) === true;
      letters.push(`${side}|${letter.partition}|${key}|${letter.error_class}|${letter.stage}|${valueOk ? 'same bytes' : 'other bytes'}|${letter.offset >= 0 ? 'offset' : 'no offset'}`);
    }
  }
  const expectedLetters = [
    ...expected.rejections.map((r) => `${r.topic}|${r.partition}|${r.key}|validation|${normalizeReason(r.reason)}|joiner|value`),
    ...expected.garbage.map((g) => `${g.topic}|${g.partition}|${g.key}|${GARBAGE_ERROR_CLASS[g.form]}|joiner|same bytes|offset`),
  ];

  return {
    examples: {
      expected: expected.examples.size,
      actual: labelled.length,
      duplicateIds: duplicateIds.slice(0, 5),
      missingIds: missingIds.slice(0, 5),
      extraIds: extraIds.slice(0, 5),
      differing: differing.slice(0, 3),
      wrongKeys,
      danglingCorrections: danglingCorrections.slice(0, 5),
    },
    unmatched: {
      expected: expected.unmatched.length,
      actual: unmatched.length,
      withoutReason,
      ...multisetDiff(expected.unmatched.map(canonicalJson), unmatched),
    },
    deadLetters: { expected: expectedLetters.length, actual: letters.length, ...multisetDiff(expectedLetters, letters) },
  };
}

/** The check with nothing wrong, for `expect(check).toEqual(clean(check))`: any difference shows in the diff. */
export function cleanCheck(check: OutputCheck): OutputCheck {
  return {
    examples: { expected: check.examples.expected, actual: check.examples.expected, duplicateIds: [], missingIds: [], extraIds: [], differing: [], wrongKeys: 0, danglingCorrections: [] },
    unmatched: { expected: check.unmatched.expected, actual: check.unmatched.expected, withoutReason: 0, missing: [], extra: [], missingCount: 0, extraCount: 0 },
    deadLetters: { expected: check.deadLetters.expected, actual: check.deadLetters.expected, missing: [], extra: [], missingCount: 0, extraCount: 0 },
  };
}

/**
 * A second child of `processors` takes over from a killed first one: it
 * starts, the group drops the first (session timeout) and holds it alone,
 * the held-back records go out, and it catches up. Resolves with the child
 * (in `processes` too) and the milliseconds from its start to caught up.
 */
export async function takeOver(options: {
  admin: Admin; name: string; env: Record<string, string>; processors: string[]; processes: JoinerProcess[];
  producing: { done: Promise<void>; release: () => void }; progress: GroupProgress; alive: () => void;
}): Promise<{ child: JoinerProcess; caughtUpMs: number }> {
  const started = Date.now();
  const child = await JoinerProcess.start({ name: options.name, env: options.env, processors: options.processors });
  options.processes.push(child);
  await waitGroupMembers(options.admin, options.progress.groupId, 1, 60_000);
  options.producing.release();
  await options.producing.done;
  await options.progress.waitCaughtUp({ timeoutMs: 120_000, check: options.alive });
  return { child, caughtUpMs: Date.now() - started };
}

/**
 * One case of a joiner test on Kafka: a seeded stream and the ticks 30 days
 * after it that expire what is left, what the pure core computes for them
 * (`problems`: interleavings the expectation would depend on; must be none),
 * the pipeline's topics created, and the stream encoded (`garbage`: the bytes
 * of each garbage event, by key).
 */
export async function joinCase(options: { transport: KafkaTransport; registry: SchemaRegistry; topics: PipelineTopics; partitions: number; seed: number; predictions: number }) {
  const { transport, topics, partitions } = options;
  const stream = generateJoinStream({ seed: options.seed, predictions: options.predictions });
  const ticks = tickEvents(partitions, stream.baseTime + 30 * DAY);
  const expected = expectedJoin([stream.events, ticks], partitions, JOINER_OPTIONS, 'as-sent');
  const problems = interleavingProblems([stream.events, ticks], partitions, JOINER_OPTIONS, expected);
  await transport.ensureTopics(pipelineTopicSpecs(topics, partitions));
  const codecs = joinerCodecs(options.registry, topics);
  const records = await encodeEvents(stream.events, codecs, topics);
  const garbage = new Map(stream.events.flatMap((e, i) => (e.kind === 'garbage' ? [[e.key, records[i]!.value!] as const] : [])));
  return { stream, ticks, expected, problems, codecs, records, garbage };
}
