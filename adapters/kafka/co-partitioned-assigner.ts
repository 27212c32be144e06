/**
 * A kafkajs partition assigner implementing the co-partitioned rule of
 * adapters/log/co-partition.ts: members sorted by member id, partition p of
 * every subscribed topic to member p % memberCount. It is the only protocol
 * our consumers offer, so a group mixing it with a member using another
 * assigner fails to form (INCONSISTENT_GROUP_PROTOCOL) instead of silently
 * breaking co-partitioning.
 *
 * Protocol (see kafkajs's RoundRobinAssigner): every member sends its
 * subscription as MemberMetadata; the group leader runs assign() over all
 * members and the coordinator hands each its MemberAssignment.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import { coPartitionedAssignment } from '../transport/co-partition.js';

export const CO_PARTITIONED_ASSIGNER = 'FeedbackloopCoPartitioned';
const VERSION = 0;

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED_ASSIGNER,
  version: VERSION,

  async assign({ members, topics }) {
    // `topics` is the leader's subscription; each member's own is in its metadata.
    const sorted = members
      .map(({ memberId, memberMetadata }) => ({
        id: memberId,
        topics: AssignerProtocol.MemberMetadata.decode(memberMetadata)?.topics ?? topics,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const assignment = coPartitionedAssignment(
      sorted,
      topics.map((topic) => ({
        topic,
        partitions: cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId),
      })),
    );
    return sorted.map(({ id }) => ({
      memberId: id,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: VERSION,
        assignment: Object.fromEntries(assignment.get(id) ?? []),
        userData: Buffer.alloc(0),
      }),
    }));
  },

  protocol({ topics }) {
    return {
      name: CO_PARTITIONED_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData: Buffer.alloc(0) }),
    };
  },
});
