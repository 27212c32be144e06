/**
 * What the /v1 routes ask of the running deployment, and what they answer:
 * the routes (adapters/http/api) are thin, these services (runtime/api)
 * hold the logic. A service refuses with an ApiProblem (problem.ts).
 */

export type EventKind = 'prediction' | 'feedback';

export interface ChampionAnswer {
  model: string;
  /** Null when nothing names one (the model is known only from a pin). */
  version: string | null;
  /** When the decision that made it champion was published (ISO 8601); null for the version upstream serves before any decision. */
  since: string | null;
  /** Who or what decided: the promoter (`feedbackloop-promoter (<client id>)`) or a person (`user:<name>`); null before any decision. */
  decided_by: string | null;
  /** The decision that made it champion (model-promotions or champion_history): its id, kind, the policy and actor that decided, the version it replaced, the reason, the evidence's event time. */
  decision: { id: string; kind: 'PROMOTE' | 'ROLLBACK'; policy: string; actor: string; from_version: string; reason: string; evidence_at: string } | null;
  /** The version is one of our snapshots, `<model>/<challenger>@<n>` (else upstream serves a model of its own). */
  our_snapshot: boolean;
  /** The snapshot is in the model registry (model_versions, copied from model-snapshots); null when not looked up (no ClickHouse, or not a snapshot). */
  snapshot_found: boolean | null;
  pinned: { by: string; reason: string; since: string } | null;
  /** Where the answer comes from (model-promotions, champion_history, metric_points). */
  sources: string[];
  /** When the sources disagree or one could not be read, what that means. */
  note: string | null;
}

export interface ScoreAnswer {
  model: string;
  version: string;
  score: number;
  /** Multiclass: each class's probability (the classes in the model's order) and the predicted class; multilabel: each label's probability. */
  class_scores?: Record<string, number>;
  predicted_class?: string;
  /** Multilabel: the labels whose probability is at least 0.5, in the model's label order. */
  predicted_labels?: string[];
}

export interface FeedbackFilter {
  model?: string;
  prediction_id?: string;
  source?: string;
  feedback_type?: string;
  /** Feedback time, epoch ms: from inclusive, to exclusive. */
  from?: number;
  to?: number;
  limit: number;
  cursor?: string;
}

export interface FeedbackItem {
  example_id: string;
  prediction_id: string;
  model: string;
  model_version: string;
  feedback_type: string;
  source: string | null;
  label: number | null;
  /** Epoch ms and ISO 8601. */
  feedback_timestamp: number;
  feedback_time: string;
  prediction_timestamp: number;
  label_delay_ms: number | null;
  score: number;
  threshold: number;
  correction_of: string | null;
}

export interface FeedbackPage {
  items: FeedbackItem[];
  /** Pass as `cursor` for the next page; null on the last. */
  next_cursor: string | null;
}

export interface FeedbackCounts {
  labels: number;
  corrections: number;
}

export interface FeedbackStatsAnswer {
  model: string;
  from: string | null;
  to: string | null;
  totals: FeedbackCounts & { by_type: Record<string, FeedbackCounts> };
  confirmed: number;
  rejected: number;
  /** USER_CONFIRMED and USER_REJECTED labels, and how many of them an expert review overturned (agreements are not recorded: see README). */
  user_feedback: { labels: number; overturned_by_expert: number; overturned_by_expert_rate: number | null };
  by_day: Array<{ day: string; labels: number; corrections: number; confirmed: number; rejected: number }>;
  top_contributors: Array<{ source: string; labels: number; corrections: number; overturned: number; overturned_by_expert: number }>;
  /** The labelled examples no published snapshot of each challenger has learned yet (now, whatever from/to): runtime/api/learning-backlog.ts. */
  not_yet_learned: LearningBacklog;
}

export interface LearningBacklog {
  /** labelled-examples and the partition the model's records go to (null: the topic does not exist). */
  topic: string;
  partition: number | null;
  /** The learner's group and its committed offset there: every record below it is in a published snapshot (or was not learnable); null: none committed. */
  learner_group: string;
  committed_offset: number | null;
  /** Rows of labelled_examples at or past that offset that the learner will learn; null when Kafka could not be read. */
  examples: number | null;
  /** Each challenger the learner trains (trained: true; examples as above), then those with snapshots but no longer configured (examples null). */
  challengers: Array<{ challenger: string; trained: boolean; examples: number | null; latest_snapshot: { version: string; training_count: number; created_at: string } | null }>;
  note: string | null;
}

export interface FeedbackService {
  list(filter: FeedbackFilter): Promise<FeedbackPage>;
  stats(model: string, range: { from?: number; to?: number }): Promise<FeedbackStatsAnswer>;
}

export interface ApiServices {
  /** Most events one POST may carry (http.api_max_batch). */
  maxBatch: number;
  /** Checks each event by the contract, sends them keyed by prediction_id; resolves with how many once Kafka acknowledged them all. */
  post(kind: EventKind, events: readonly unknown[], batched: boolean): Promise<number>;
  /** Undefined for a model no source knows. */
  champion(model: string): Promise<ChampionAnswer | undefined>;
  score(model: string, input: { features: unknown; categorical?: unknown }): Promise<ScoreAnswer>;
  /** Undefined without ClickHouse (clickhouse.url). */
  feedback: FeedbackService | undefined;
}
