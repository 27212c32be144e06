/**
 * The co-partitioned assignment (adapters/transport/co-partition.ts) as a
 * @platformatic/kafka partition assigner: members sorted by member id,
 * partition p of every subscribed topic to member p % memberCount.
 *
 * The group protocol carries the name of kafkajs's assigner
 * (co-partitioned-assigner.ts) and the standard ConsumerProtocolSubscription
 * both clients encode, so a group mixing the two clients forms and assigns
 * alike; a member offering another protocol fails the join
 * (INCONSISTENT_GROUP_PROTOCOL) instead of breaking co-partitioning.
 *
 * @platformatic/kafka skips the assigner when the leader is the only member
 * (it takes every partition of its topics), which is the same assignment.
 */
import type { ClusterMetadata, ExtendedGroupProtocolSubscription, GroupPartitionsAssigner, GroupProtocolSubscription } from '@platformatic/kafka';
import { coPartitionedAssignment } from '../../transport/co-partition.js';
import { CO_PARTITIONED_ASSIGNER } from '../co-partitioned-assigner.js';

export const CO_PARTITIONED_PROTOCOL: GroupProtocolSubscription = { name: CO_PARTITIONED_ASSIGNER, version: 0 };

export const coPartitionedPlatformaticAssigner: GroupPartitionsAssigner = (
  _current: string,
  members: Map<string, ExtendedGroupProtocolSubscription>,
  topics: Set<string>,
  metadata: ClusterMetadata,
) => {
  const sorted = [...members.values()]
    .map((m) => ({ id: m.memberId, topics: m.topics ?? [...topics] }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const subscribed = [...new Set(sorted.flatMap((m) => m.topics))];
  const assignment = coPartitionedAssignment(
    sorted,
    subscribed.map((topic) => ({
      topic,
      partitions: Array.from({ length: metadata.topics.get(topic)?.partitionsCount ?? 0 }, (_, p) => p),
    })),
  );
  return sorted.map(({ id }) => ({
    memberId: id,
    assignments: new Map([...(assignment.get(id) ?? [])].map(([topic, partitions]) => [topic, { topic, partitions }])),
  }));
};
