/**
 * Judges the broker settings of an existing topic against what feedbackloop
 * reads from it (`feedbackloop check`). ensureTopics creates a missing topic
 * with the settings of its TopicSpec but never alters one that exists (made by
 * an earlier version or an administrator), so a topic can still delete what a
 * restore or a reader needs. Pure: the settings are read by the transport
 * (LogTransport.topicSettings), the findings printed by the command.
 */
import type { TopicSpec } from '../adapters/transport/transport.js';
import { formatDuration } from '../core/duration.js';

export interface TopicSettingFinding {
  topic: string;
  /** The settings found that lose records, as `name=value`. */
  found: string;
  /** What is lost, and why. */
  why: string;
  /** The settings that keep it (`kafka-configs.sh --add-config`). */
  fix: Array<{ name: string; value: string }>;
}

/** Every problem of one topic's settings (effective values: the topic's own or the broker's default); a setting not given is not judged. */
export function judgeTopicSettings(spec: TopicSpec, settings: ReadonlyMap<string, string>): TopicSettingFinding[] {
  return [foreverFinding(spec, settings), compactFinding(spec, settings), createTimeFinding(spec, settings)].filter(
    (finding): finding is TopicSettingFinding => finding !== undefined,
  );
}

/** The retention.ms that deletes records by time, when the cleanup policy deletes (undefined: nothing deleted by time, or not known). */
function timeRetention(settings: ReadonlyMap<string, string>): number | undefined {
  const policies = (settings.get('cleanup.policy') ?? '').split(',').map((p) => p.trim());
  const retention = Number(settings.get('retention.ms') ?? Number.NaN);
  return policies.includes('delete') && Number.isInteger(retention) && retention >= 0 ? retention : undefined;
}

const retentionText = (ms: number) => `retention.ms=${ms} (${formatDuration(ms)})`;

/** A topic kept for ever (model-promotions; labelled-examples with retention 0) that deletes by time. */
function foreverFinding(spec: TopicSpec, settings: ReadonlyMap<string, string>): TopicSettingFinding | undefined {
  const retention = timeRetention(settings);
  if (!spec.keepForever || spec.compacted || retention === undefined) return undefined;
  return {
    topic: spec.name,
    found: retentionText(retention),
    why: `records are deleted ${formatDuration(retention)} after their timestamp, but feedbackloop reads this topic from its start and needs every record however old${spec.reads ? ` (${spec.reads})` : ''}`,
    fix: [{ name: 'retention.ms', value: '-1' }],
  };
}

/** A compacted topic (the state a restore reads) whose cleanup policy deletes by time: without `compact`, or with `delete` too. */
function compactFinding(spec: TopicSpec, settings: ReadonlyMap<string, string>): TopicSettingFinding | undefined {
  const retention = timeRetention(settings);
  if (!spec.compacted || retention === undefined) return undefined;
  return {
    topic: spec.name,
    found: `cleanup.policy=${settings.get('cleanup.policy')} with ${retentionText(retention)}`,
    why: `records are deleted ${formatDuration(retention)} after their timestamp, but a restore needs the latest record of every key however old${spec.reads ? ` (${spec.reads})` : ''}`,
    fix: [{ name: 'cleanup.policy', value: 'compact' }],
  };
}

/** A finite-retention topic (labelled-examples) whose retention counts from the record's own time, the event time. */
function createTimeFinding(spec: TopicSpec, settings: ReadonlyMap<string, string>): TopicSettingFinding | undefined {
  const retention = timeRetention(settings);
  if (spec.retentionMs === undefined || spec.keepForever || retention === undefined || settings.get('message.timestamp.type') !== 'CreateTime') return undefined;
  return {
    topic: spec.name,
    found: `message.timestamp.type=CreateTime with ${retentionText(retention)}`,
    why: `retention counts from each record's own timestamp, its event time: replayed history older than ${formatDuration(retention)} is deleted at the broker's next retention check (records written before the change keep their timestamps)`,
    fix: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
  };
}

/** The kafka-configs.sh command that applies a finding's fix. */
export function alterCommand(brokers: readonly string[], finding: TopicSettingFinding): string {
  const configs = finding.fix.map((c) => `${c.name}=${c.value}`).join(',');
  return `kafka-configs.sh --bootstrap-server ${brokers.join(',')} --alter --entity-type topics --entity-name ${finding.topic} --add-config ${configs}`;
}

/** One line of check's report: the setting found, why it loses records, the fix. */
export function findingText(brokers: readonly string[], finding: TopicSettingFinding): string {
  return `${finding.topic} has ${finding.found}: ${finding.why}; fix: ${alterCommand(brokers, finding)}`;
}
