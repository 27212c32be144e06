/**
 * The Kafka ACLs `run` needs, per processor, derived from the pipeline's
 * definition (PROCESSORS' `inputs` and `kafka`: runtime/pipeline.ts) and the
 * config (topic names, kafka.client_id), so that they follow the code:
 *
 * - its inputs, what it restores from and what it follows: TOPIC READ, DESCRIBE;
 * - its outputs (dead letters included): TOPIC WRITE, DESCRIBE;
 * - its consumer group `<client_id>-<processor>`: GROUP READ (join, fetch,
 *   commit, also inside a transaction), DESCRIBE (the offsets it resumes from);
 * - the groups with a unique suffix, granted by PREFIXED pattern: its feeds'
 *   (`<group>-<feed>-`, READ) and readToEnd's (`<client_id>-read-to-end-`,
 *   READ, and DELETE: it deletes them when done);
 * - exactly-once processors: TRANSACTIONAL_ID `<group>-` PREFIXED WRITE, DESCRIBE;
 * - the /v1 API (http.api, `for: 'api'`): WRITE on the input topics, READ on
 *   the decisions and snapshots, its scorers' and readToEnd's groups,
 *   DESCRIBE on labelled-examples and the learner's group (feedback stats).
 *
 * No CLUSTER ACL: the producers are idempotent, and since Kafka 3.0 WRITE on
 * a topic allows that (KIP-679; an older broker also needs CLUSTER
 * IDEMPOTENT_WRITE). No CREATE: creating the topics is an administrator's
 * step; `run` creates missing ones only when allowed to (`createTopics` adds
 * TOPIC CREATE for that).
 */
import type { Config } from '../adapters/config/index.js';
import { READ_TO_END_GROUP } from '../adapters/kafka/read-to-end.js';
import { PROCESSOR_NAMES, PROCESSORS, processorGroupId, topicSpecsFor, type ProcessorName } from './pipeline.js';

export type AclResourceType = 'TOPIC' | 'GROUP' | 'TRANSACTIONAL_ID' | 'CLUSTER';
export type AclPatternType = 'LITERAL' | 'PREFIXED';
export type AclOperation = 'READ' | 'WRITE' | 'DESCRIBE' | 'DELETE' | 'CREATE';

export interface KafkaAcl {
  resourceType: AclResourceType;
  patternType: AclPatternType;
  /** The resource's name, or the prefix of the names (PREFIXED). */
  name: string;
  operations: AclOperation[];
  /** Who needs it: a processor, or `run` itself. */
  for: string;
  why: string;
}

/** One resource's ACL for every processor that needs it: the union of their operations. */
export interface MergedAcl extends Omit<KafkaAcl, 'for' | 'why'> {
  for: string[];
}

export interface AclOptions {
  /** `<client_id>` of the group ids and transactional ids (default kafka.client_id). */
  name?: string;
  /** Also TOPIC CREATE on every topic, for a `run` that creates the missing ones itself. */
  createTopics?: boolean;
}

const READ: AclOperation[] = ['READ', 'DESCRIBE'];
const WRITE: AclOperation[] = ['WRITE', 'DESCRIBE'];

/** The ACLs one processor needs. */
export function processorAcls(config: Config, processor: ProcessorName, name = config.kafka.client_id): KafkaAcl[] {
  const t = config.topics;
  const def = PROCESSORS[processor];
  const group = processorGroupId(name, processor);
  const topic = (topicName: string, operations: AclOperation[], why: string): KafkaAcl => ({ resourceType: 'TOPIC', patternType: 'LITERAL', name: topicName, operations, for: processor, why });
  const acls: KafkaAcl[] = [
    ...def.inputs(config).map((n) => topic(n, READ, 'input')),
    ...def.kafka.outputs(config).map((n) => topic(n, WRITE, 'output')),
    ...def.kafka.restores(config).map((n) => topic(n, READ, 'restores its state from it')),
    ...def.kafka.feeds(config).map((f) => topic(f.topic, READ, `followed by its ${f.group} feed`)),
    { resourceType: 'GROUP', patternType: 'LITERAL', name: group, operations: READ, for: processor, why: 'its consumer group' },
    ...def.kafka.feeds(config).map((f): KafkaAcl => ({ resourceType: 'GROUP', patternType: 'PREFIXED', name: `${group}-${f.group}-`, operations: ['READ'], for: processor, why: `its ${f.group} feed's groups (a unique suffix each)` })),
  ];
  if (def.kafka.restores(config).length > 0) {
    acls.push({ resourceType: 'GROUP', patternType: 'PREFIXED', name: `${name}-${READ_TO_END_GROUP}-`, operations: ['READ', 'DELETE'], for: processor, why: 'the ephemeral groups that re-read a topic (deleted when done)' });
  }
  if (def.kafka.transactional) {
    acls.push({ resourceType: 'TRANSACTIONAL_ID', patternType: 'PREFIXED', name: `${group}-`, operations: WRITE, for: processor, why: 'its transactional producers, one per partition' });
  }
  return mergeAcls(acls).map((m) => ({ ...m, for: processor, why: acls.filter((a) => sameResource(a, m)).map((a) => a.why).join('; ') }));
}

function sameResource(a: Pick<KafkaAcl, 'resourceType' | 'patternType' | 'name'>, b: Pick<KafkaAcl, 'resourceType' | 'patternType' | 'name'>): boolean {
  return a.resourceType === b.resourceType && a.patternType === b.patternType && a.name === b.name;
}

/** The consumer groups of the /v1 API's champion scorers start with `<client_id>-api-scorer` (runtime/api/scoring.ts). */
export const apiScorerGroupPrefix = (name: string) => `${name}-api-scorer`;

/** What `run`'s /v1 API (http.api) does on Kafka: POST writes the input topics; the champion and score read the decisions and snapshots; feedback stats read the learner's offsets. */
export function apiAcls(config: Config, name = config.kafka.client_id): KafkaAcl[] {
  const t = config.topics;
  const acl = (resourceType: AclResourceType, patternType: AclPatternType, resource: string, operations: AclOperation[], why: string): KafkaAcl => ({ resourceType, patternType, name: resource, operations, for: 'api', why });
  return [
    acl('TOPIC', 'LITERAL', t.predictions, WRITE, 'POST /v1/predictions'),
    acl('TOPIC', 'LITERAL', t.feedback, WRITE, 'POST /v1/feedback'),
    acl('TOPIC', 'LITERAL', t.model_promotions, READ, 'the champion (read to its end) and its scorers follow it'),
    acl('TOPIC', 'LITERAL', t.model_snapshots, READ, 'its scorers load the champion snapshot'),
    acl('GROUP', 'PREFIXED', `${apiScorerGroupPrefix(name)}-`, ['READ'], 'its scorers\' groups (one per model asked about, a unique suffix each)'),
    acl('GROUP', 'PREFIXED', `${name}-${READ_TO_END_GROUP}-`, ['READ', 'DELETE'], 'the ephemeral groups that read the decisions to their end (deleted when done)'),
    acl('TOPIC', 'LITERAL', t.labelled_examples, ['DESCRIBE'], 'feedback stats: the partition of a model\'s examples, and the learner\'s offsets there'),
    acl('GROUP', 'LITERAL', processorGroupId(name, 'learner'), ['DESCRIBE'], 'feedback stats: what the learner has learned (its committed offsets)'),
  ];
}

/** The ACLs `run --only <processors>` needs, per processor, the /v1 API's when http.api is on (and `run` itself when it may create topics). */
export function kafkaAcls(config: Config, processors: readonly ProcessorName[] = PROCESSOR_NAMES, options: AclOptions = {}): KafkaAcl[] {
  const name = options.name ?? config.kafka.client_id;
  const acls = PROCESSOR_NAMES.filter((p) => processors.includes(p)).flatMap((p) => processorAcls(config, p, name));
  if (config.http.api) for (const acl of apiAcls(config, name)) acls.push(acl);
  if (options.createTopics) {
    for (const spec of topicSpecsFor(config, processors)) {
      acls.push({ resourceType: 'TOPIC', patternType: 'LITERAL', name: spec.name, operations: ['CREATE', 'DESCRIBE'], for: 'run', why: 'creates the topic when it is missing' });
    }
  }
  return acls;
}

const OPERATION_ORDER: AclOperation[] = ['READ', 'WRITE', 'CREATE', 'DELETE', 'DESCRIBE'];
const RESOURCE_ORDER: AclResourceType[] = ['TOPIC', 'GROUP', 'TRANSACTIONAL_ID', 'CLUSTER'];

/** One entry per resource pattern, with every operation any processor needs on it: what to grant. */
export function mergeAcls(acls: readonly KafkaAcl[]): MergedAcl[] {
  const byResource = new Map<string, MergedAcl>();
  for (const acl of acls) {
    const key = `${acl.resourceType}\u0000${acl.patternType}\u0000${acl.name}`;
    let merged = byResource.get(key);
    if (!merged) byResource.set(key, (merged = { resourceType: acl.resourceType, patternType: acl.patternType, name: acl.name, operations: [], for: [] }));
    for (const op of acl.operations) if (!merged.operations.includes(op)) merged.operations.push(op);
    if (!merged.for.includes(acl.for)) merged.for.push(acl.for);
  }
  const out = [...byResource.values()];
  for (const m of out) m.operations.sort((a, b) => OPERATION_ORDER.indexOf(a) - OPERATION_ORDER.indexOf(b));
  return out.sort((a, b) => RESOURCE_ORDER.indexOf(a.resourceType) - RESOURCE_ORDER.indexOf(b.resourceType) || a.name.localeCompare(b.name));
}

const TOOL_RESOURCE: Record<AclResourceType, string> = { TOPIC: '--topic', GROUP: '--group', TRANSACTIONAL_ID: '--transactional-id', CLUSTER: '--cluster' };
const TOOL_OPERATION: Record<AclOperation, string> = { READ: 'Read', WRITE: 'Write', DESCRIBE: 'Describe', DELETE: 'Delete', CREATE: 'Create' };

/** `kafka-acls.sh` commands that grant `acls` to `principal` (e.g. `User:feedbackloop`), one per resource pattern. */
export function kafkaAclsCommands(acls: readonly KafkaAcl[], principal: string, bootstrap = '<broker:port>', commandConfig = '<admin.properties>'): string[] {
  return mergeAcls(acls).map((acl) => {
    const resource = acl.resourceType === 'CLUSTER' ? TOOL_RESOURCE.CLUSTER : `${TOOL_RESOURCE[acl.resourceType]} ${shellWord(acl.name)}`;
    return [
      `kafka-acls.sh --bootstrap-server ${shellWord(bootstrap)} --command-config ${shellWord(commandConfig)} --add --allow-principal ${shellWord(principal)}`,
      resource,
      ...(acl.patternType === 'PREFIXED' ? ['--resource-pattern-type prefixed'] : []),
      ...acl.operations.map((op) => `--operation ${TOOL_OPERATION[op]}`),
    ].join(' ');
  });
}

/** The ACLs as a Markdown table, one row per processor and resource (the README's). */
export function aclTable(acls: readonly KafkaAcl[]): string {
  const rows = acls.map((a) => `| ${a.for} | ${a.resourceType} | ${a.patternType === 'PREFIXED' ? `\`${a.name}\`*` : `\`${a.name}\``} | ${a.operations.join(', ')} | ${a.why} |`);
  return ['| processor | resource | name (`*`: prefix) | operations | why |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** A word as the shell reads it back: quoted when it holds anything but safe characters. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_.:/@=+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
