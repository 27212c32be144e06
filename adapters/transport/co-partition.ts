/**
 * The co-partitioned assignment both transports use for consumer groups:
 * partition p of every topic goes to member p % memberCount, so partition p
 * of `predictions` and partition p of `feedback` (keyed alike) always land
 * on the same member. The caller orders the members (Kafka: by member id,
 * in-process: by join order).
 *
 * A topic only goes to members subscribed to it: with different
 * subscriptions in one group, each topic is split among its own subscribers
 * by the same rule (co-partitioning then holds among members with the same
 * subscription, which is the only case a join needs).
 */
export interface AssignmentMember {
  id: string;
  /** Topics the member subscribed to. */
  topics: readonly string[];
}

export interface TopicPartitions {
  topic: string;
  partitions: readonly number[];
}

/** Member id -> topic -> partitions (ascending). Every member appears, possibly with nothing. */
export function coPartitionedAssignment(
  members: readonly AssignmentMember[],
  topics: readonly TopicPartitions[],
): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const member of members) out.set(member.id, new Map());
  for (const { topic, partitions } of topics) {
    const subscribers = members.filter((m) => m.topics.includes(topic));
    if (subscribers.length === 0) continue;
    for (const partition of [...partitions].sort((a, b) => a - b)) {
      const owner = out.get(subscribers[partition % subscribers.length]!.id)!;
      let list = owner.get(topic);
      if (!list) owner.set(topic, (list = []));
      list.push(partition);
    }
  }
  return out;
}
