/**
 * `feedbackloop status`, what it reads from Kafka: the decisions on the
 * model-promotions topic (champions and pins) and each processor group's
 * committed offsets against its inputs (consumer lag).
 */
import type { Config } from '../../adapters/config/index.js';
import { topicLag } from '../../adapters/prometheus/index.js';
import type { LogTransport } from '../../adapters/transport/transport.js';
import { errorMessage, FeedbackloopError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { readPromotionDecisions, type Runtime } from '../connect.js';
import { consumerGroups, PROCESSOR_NAMES } from '../pipeline.js';
import { championMoves, currentPins, latestMoves, type ChampionMove, type PinStatus } from './champions.js';
import { groupStatus, topicLagStatus, type GroupStatus, type TopicLagStatus } from './consumer-lag.js';
import type { Fail } from './report.js';

const NO_TOPIC = 'no such topic';

/** Latest PROMOTE / ROLLBACK per model on the promotions topic; undefined when it could not be read. */
export async function topicChampions(runtime: Pick<Runtime, 'config' | 'transport' | 'codecs'>, fail: Fail, note: (text: string) => void): Promise<{ moves: Map<string, ChampionMove>; pins: Map<string, PinStatus> } | undefined> {
  const topic = runtime.config.topics.model_promotions;
  try {
    await runtime.transport.partitionCount(topic);
  } catch (error) {
    if (error instanceof FeedbackloopError && !error.retriable) {
      note(`topic ${topic} does not exist: no decision was ever published (\`feedbackloop check\` or \`run\` creates it)`);
      return { moves: new Map(), pins: new Map() };
    }
    fail('kafka', `Kafka at ${runtime.config.kafka.brokers.join(',')}: cannot read topic ${topic}: ${errorMessage(error)}`);
    return undefined;
  }
  try {
    const { decisions, undecodable } = await readPromotionDecisions(runtime);
    if (undecodable > 0) note(`${undecodable} record(s) on ${topic} are not promotion decisions and were skipped`);
    return { moves: latestMoves(championMoves(decisions)), pins: currentPins(decisions) };
  } catch (error) {
    const registry = redactUrl(runtime.config.kafka.schema_registry_url ?? '');
    if (errorMessage(error).startsWith('schema registry')) fail('schema registry', `Schema registry at ${registry} unreachable: is it running? check kafka.schema_registry_url (${errorMessage(error)})`);
    else fail('kafka', `Kafka at ${runtime.config.kafka.brokers.join(',')}: cannot read topic ${topic}: ${errorMessage(error)}`);
    return undefined;
  }
}

/** Each processor's group against its inputs (the groups and topics `run` uses for its lag gauge). */
export async function consumerLag(transport: LogTransport, config: Config, fail: Fail, note: (text: string) => void): Promise<GroupStatus[]> {
  const topicCount = new Map<string, Promise<number>>();
  const out: GroupStatus[] = [];
  let failed = false;
  for (const group of consumerGroups(config, PROCESSOR_NAMES)) {
    const topics: TopicLagStatus[] = [];
    for (const topic of group.topics) {
      try {
        if (!topicCount.has(topic)) topicCount.set(topic, transport.partitionCount(topic));
        await topicCount.get(topic);
        topics.push(topicLagStatus(topic, await topicLag(transport, group.groupId, topic)));
      } catch (error) {
        const missing = error instanceof FeedbackloopError && !error.retriable;
        topics.push({ topic, lag: null, partitions: [], error: missing ? NO_TOPIC : errorMessage(error) });
        if (!missing && !failed) {
          failed = true;
          fail('kafka', `Kafka at ${config.kafka.brokers.join(',')}: cannot read offsets: ${errorMessage(error)}`);
        }
      }
    }
    out.push(groupStatus(group.processor, group.groupId, topics));
  }
  const missing = [...new Set(out.flatMap((g) => g.topics.filter((t) => t.error === NO_TOPIC).map((t) => t.topic)))];
  if (missing.length > 0) note(`topic(s) ${missing.join(', ')} do not exist yet (\`feedbackloop check\` or \`run\` creates them)`);
  return out;
}
