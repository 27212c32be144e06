/**
 * The manual decisions of one model waiting for their time (see the file
 * comment of policy.ts): a queue in request order, without re-deliveries.
 */
import type { PromotionDecision } from '../events.js';
import { PolicyStateMismatch, type ManualRequestsData } from './data.js';

export class ManualRequests {
  /** Manual decisions requested and not applied yet, in request order. */
  private requests: PromotionDecision[] = [];
  private readonly requested = new Set<string>();

  constructor(private readonly model: string) {}

  /** Plain data (promoter checkpoints). */
  toState(): ManualRequestsData {
    return { pending: [...this.requests], requested: Array.from(this.requested) };
  }

  static fromState(model: string, data: ManualRequestsData): ManualRequests {
    const requests = new ManualRequests(model);
    for (const id of data.requested) requests.requested.add(id);
    for (const decision of data.pending) {
      if (decision.model !== model) throw new PolicyStateMismatch(`manual requests of ${model}: a pending decision of model ${decision.model}`);
      requests.requests.push(decision);
    }
    return requests;
  }

  /** Queues a decision; one whose id was seen before is ignored. Throws on another model's decision or one that is not PROMOTE, ROLLBACK, PIN or UNPIN. */
  add(decision: PromotionDecision): void {
    if (decision.model !== this.model) {
      throw new Error(`promotion policy of ${this.model} was given a decision of model ${decision.model}`);
    }
    if (!['PROMOTE', 'ROLLBACK', 'PIN', 'UNPIN'].includes(decision.decision)) {
      throw new Error(`promotion policy: a manual ${decision.decision} decision cannot be applied`);
    }
    if (this.requested.has(decision.decision_id)) return;
    this.requested.add(decision.decision_id);
    this.requests.push(decision);
  }

  /** The decisions not taken yet, in request order. */
  pending(): PromotionDecision[] {
    return [...this.requests];
  }

  /** Takes out, in request order, the decisions due at event time `at` (their `at` is not after it). */
  due(at: number): PromotionDecision[] {
    if (this.requests.length === 0) return [];
    const due = this.requests.filter((r) => r.at <= at);
    if (due.length === 0) return [];
    this.requests = this.requests.filter((r) => r.at > at);
    return due;
  }
}
