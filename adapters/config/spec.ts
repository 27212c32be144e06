/**
 * Every configuration key, its type, default and meaning: the one place
 * config keys are defined. The Config type (at the end) is derived from
 * these tables, and docs/config.md is generated from them (npm run
 * docs:config); a test keeps the doc in step.
 *
 * Each leaf key can be overridden from the environment:
 * `kafka.schema_registry_url` -> FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_URL.
 */
import {
  DEFAULT_MAX_MODEL_FEATURES, DEFAULT_MAX_MODELS, DEFAULT_MAX_SEGMENT_ATTRIBUTES, DEFAULT_MAX_SEGMENT_VALUES, DEFAULT_RECORD_LIMITS, OTHER_SEGMENT_VALUE,
} from '../../core/limits.js';

export type FieldKind = FieldSpec['kind'];

interface FieldBase {
  doc: string;
  /** Never logged; redacted in `feedbackloop config --print`. */
  secret?: boolean;
}

/**
 * One key. `default` omitted or null: optional with no value (null; an
 * empty list for a list). A duration's default is written like its YAML
 * value ('30s') and loads as milliseconds; a timestamp's too ('2000-01-01')
 * and loads as epoch milliseconds.
 */
export type FieldSpec = FieldBase &
  (
    | { kind: 'string' | 'url'; default?: string | null }
    | { kind: 'int' | 'number'; default?: number | null; min?: number; max?: number }
    | { kind: 'duration'; default?: string | null }
    | { kind: 'timestamp'; default?: string | null }
    | { kind: 'boolean'; default?: boolean | null }
    | { kind: 'list'; default?: readonly string[] | null }
    | { kind: 'enum'; values: readonly string[]; default?: string | null }
  );

export interface SectionSpec {
  doc: string;
  fields: Record<string, FieldSpec>;
}

/** `models.<name>.*`: per-model settings; any model name is allowed. */
export const MODEL_FIELDS = {
  task: {
    kind: 'enum',
    values: ['binary', 'regression', 'multiclass', 'multilabel'],
    default: 'binary',
    doc: "What the model predicts: a probability of the positive class (binary), a value (regression), one of several classes (multiclass) or a set of labels (multilabel), the last two with class_scores (README, Connect your app). All four are evaluated, learned and promoted: multiclass and multilabel models get accuracy, per-class and averaged precision/recall/F1, log loss and a confusion matrix (README), challengers (multiclass: softmax and the other multiclass presets; multilabel: br_logreg, binary relevance) and the paired multi-class or multi-label log loss test. Upstream candidates (shadow_scores in a prediction) of a multiclass or multilabel model are not supported: such a prediction is dead-lettered.",
  },
  classes: {
    kind: 'list',
    default: [],
    doc: 'multiclass and multilabel (required): the class (or label) names, 2 to limits.max_classes distinct ones, in order (an arg-max tie goes to the first). A prediction or feedback naming another class is dead-lettered. Not for binary and regression.',
  },
  numeric_target: {
    kind: 'string',
    default: null,
    doc: "multiclass only: the name of a number predicted beside the class (e.g. severity): the prediction's score and the feedback's label carry it, next to class_scores and label_class. Unset: a multiclass model has no number (its score is ignored, a feedback with a label is dead-lettered).",
  },
  challengers: {
    kind: 'list',
    default: [],
    doc: 'Challenger presets the learner trains for this model (logreg, logreg_adagrad, logreg_adam, ftrl, pa, naive_bayes for binary; linreg, linreg_adam, pa_regressor for regression; softmax, softmax_adagrad, softmax_adam, ovr_logreg, naive_bayes_multiclass for multiclass; br_logreg, br_logreg_adagrad for multilabel; the last two kinds built with models.<name>.classes). Empty: logreg (binary), linreg (regression), softmax (multiclass), br_logreg (multilabel). [none]: no challenger of ours (every candidate comes from upstream, in the predictions\' shadow_scores).',
  },
} as const satisfies Record<string, FieldSpec>;

export const CONFIG_SPEC = {
  kafka: {
    doc: 'Kafka and the schema registry. With no brokers, feedbackloop runs on the in-process log.',
    fields: {
      brokers: { kind: 'list', default: [], doc: 'Bootstrap brokers, host:port (comma-separated in the environment). Empty = in-process log.' },
      client_id: { kind: 'string', default: 'feedbackloop', doc: 'Kafka client id.' },
      client: {
        kind: 'enum',
        values: ['kafkajs', 'platformatic'],
        default: 'kafkajs',
        doc: 'The Kafka client library the processors use: kafkajs, or @platformatic/kafka (measured side by side in the README, Transports; no AWS IAM SASL, and Kafka\'s refusals are not translated into the ACL to grant).',
      },
      schema_registry_url: {
        kind: 'url',
        default: null,
        doc: 'Confluent-compatible schema registry base URL; required with brokers. Credentials in it (https://user:password@host) work but are better given as schema_registry_username and schema_registry_password; they are redacted wherever the URL is printed or logged.',
      },
      schema_registry_username: { kind: 'string', default: null, doc: 'Schema registry user (HTTP basic auth; with schema_registry_password).' },
      schema_registry_password: { kind: 'string', default: null, secret: true, doc: 'Schema registry password (HTTP basic auth).' },
      schema_registry_ca_file: {
        kind: 'string',
        default: null,
        doc: "PEM file of the CA(s) that sign the schema registry's certificate (an https:// schema_registry_url), instead of the system's. Read at start.",
      },
      replication_factor: { kind: 'int', default: 1, min: 1, max: 10, doc: 'Replication factor of the topics feedbackloop creates.' },
      sasl_mechanism: { kind: 'enum', values: ['none', 'plain', 'scram-sha-256', 'scram-sha-512'], default: 'none', doc: 'SASL mechanism.' },
      sasl_username: { kind: 'string', default: null, doc: 'SASL user name.' },
      sasl_password: { kind: 'string', default: null, secret: true, doc: 'SASL password.' },
      ssl: { kind: 'boolean', default: false, doc: "Connect to the brokers over TLS (the broker's certificate is always verified: against ssl_ca_file, or the system's CAs)." },
      ssl_ca_file: { kind: 'string', default: null, doc: "PEM file of the CA(s) that sign the brokers' certificates, instead of the system's (a private CA). Needs ssl: true. Read at start." },
      ssl_cert_file: { kind: 'string', default: null, doc: "PEM file of this client's certificate for mutual TLS (with ssl_key_file). Needs ssl: true. Read at start." },
      ssl_key_file: { kind: 'string', default: null, doc: "PEM file of this client's private key for mutual TLS (with ssl_cert_file). Read at start." },
      ssl_key_password: { kind: 'string', default: null, secret: true, doc: 'Passphrase of an encrypted ssl_key_file.' },
      session_timeout: { kind: 'duration', default: '10s', doc: 'Consumer group session timeout: how soon a dead instance\'s partitions move to another, and how long one batch may take.' },
      transaction_timeout: {
        kind: 'duration',
        default: '60s',
        doc: "How long a processor's transaction may stay open before the broker aborts it and fences its producer (the producer's transaction.timeout.ms; 1s to 15m, the broker's default transaction.max.timeout.ms). A transaction open across a broker outage (or a stalled process) longer than this is aborted and its producer fenced: the task is restored from its last commit with a new producer and `run` goes on (only a producer fenced by the partition's new owner stops `run`). A hung process holds back read_committed readers of its output for at most this long.",
      },
    },
  },
  topics: {
    doc: 'Topic names, and the partitions of the topics feedbackloop creates.',
    fields: {
      predictions: { kind: 'string', default: 'predictions', doc: 'Prediction events (key prediction_id).' },
      feedback: { kind: 'string', default: 'feedback', doc: 'Feedback events (key prediction_id); must have as many partitions as predictions.' },
      labelled_examples: { kind: 'string', default: 'labelled-examples', doc: 'Joined examples (key model).' },
      labelled_examples_retention: {
        kind: 'duration',
        default: '30d',
        doc: "How long labelled_examples keeps a record after it arrived, when feedbackloop creates the topic (retention.ms, with message.timestamp.type LogAppendTime so replayed history is not deleted at once). Restarts restore checkpoints and read only what follows them; a rebuild with no usable checkpoint (checkpoints off, a changed evaluator or promotion setting) reads only what is retained, so its `total` figures start there. 0s = keep for ever.",
      },
      sharded_examples: {
        kind: 'string',
        default: 'labelled-examples-sharded',
        doc: "The same labelled examples keyed by prediction_id, written by the joiner in the same transaction only with evaluator.shard_by: prediction (created then, with labelled_examples' partitions and retention): one model's examples spread over every partition, so several evaluators share it; a correction has its prediction's key, so it meets the example it replaces. The learner and the promoter keep reading labelled_examples (one ordered stream per model).",
      },
      model_snapshots: { kind: 'string', default: 'model-snapshots', doc: 'Model snapshots (compacted, key model/version).' },
      model_promotions: { kind: 'string', default: 'model-promotions', doc: 'Promotion decisions (key model); created with retention.ms -1: the champion is the latest decision, however old.' },
      dead_letters: { kind: 'string', default: 'dead-letters', doc: 'Records that could not be processed, with the reason.' },
      unmatched_feedback: { kind: 'string', default: 'unmatched-feedback', doc: 'Feedback whose prediction never arrived within the early-feedback TTL (Feedback records, key prediction_id).' },
      joiner_changelog: { kind: 'string', default: 'feedbackloop-joiner-changelog', doc: "The joiner's state changelog (compacted, as many partitions as predictions)." },
      promoter_checkpoints: { kind: 'string', default: 'feedbackloop-promoter-checkpoints', doc: "The promoter's state checkpoints (compacted, at least as many partitions as labelled_examples)." },
      evaluator_checkpoints: { kind: 'string', default: 'feedbackloop-evaluator-checkpoints', doc: "The evaluator's state checkpoints (compacted, at least as many partitions as labelled_examples)." },
      partitions: { kind: 'int', default: 3, min: 1, max: 1024, doc: 'Partitions of topics feedbackloop creates on Kafka (replay runs one partition per topic: its outputs then follow event time).' },
    },
  },
  clickhouse: {
    doc: 'ClickHouse for metric time series. With no url, metrics go to files.',
    fields: {
      url: { kind: 'url', default: null, doc: 'HTTP interface, e.g. http://127.0.0.1:8123. Empty = write files instead.' },
      database: { kind: 'string', default: 'feedbackloop', doc: 'Database; created if missing.' },
      username: { kind: 'string', default: 'default', doc: 'User.' },
      password: { kind: 'string', default: '', secret: true, doc: 'Password. Credentials in the url (http://user:password@host) take precedence; the url is redacted wherever it is printed or logged.' },
      ca_file: { kind: 'string', default: null, doc: "PEM file of the CA(s) that sign the server's certificate (an https:// url), instead of the system's. Read at start." },
      request_timeout: { kind: 'duration', default: '30s', doc: 'Timeout of one request.' },
    },
  },
  joiner: {
    doc: 'The join of predictions and feedback (event time).',
    fields: {
      join_window: { kind: 'duration', default: '7d', doc: 'How long a prediction waits for feedback after its timestamp; then it expires (counted for label coverage).' },
      early_feedback_ttl: { kind: 'duration', default: '1h', doc: 'How long feedback that arrives before its prediction waits for it; then it is sent on as unmatched.' },
      emit_unlabelled: { kind: 'boolean', default: true, doc: 'Emit an example with label null when a prediction expires without a label.' },
      emit_arrivals: {
        kind: 'boolean',
        default: true,
        doc: "Write an arrival record to labelled-examples for every accepted prediction, at prediction time (arrival true, label null, example_id <prediction_id>#arrival, the prediction's shadow scores): the evaluator sees every prediction in prediction order (predictions, pending, estimated figures, input and score drift). The learner, the promoter, replay's labelled.jsonl/unlabelled.jsonl and the ClickHouse labelled_examples table skip them. Off: one record less per prediction on the topic, and the evaluator works from labels alone as before.",
      },
      max_future: {
        kind: 'duration',
        default: '1h',
        doc: "Events stamped more than this ahead of the clock are dead-lettered (they would expire every pending prediction): in run the wall clock; in replay the stream's own time, the later of the latest timestamp accepted before the event in its file and the median of the next 5 events of the file (the last event of a file is not checked against it; see the README, The joiner).",
      },
      min_timestamp: {
        kind: 'timestamp',
        default: '2000-01-01',
        doc: 'Events stamped before this are dead-lettered (a timestamp in seconds instead of milliseconds lands in 1970), in run and replay: a UTC date (2000-01-01), a date-time with its zone (2000-01-01T00:00:00Z) or epoch milliseconds.',
      },
      input_wait: {
        kind: 'duration',
        default: '5s',
        doc: "Event-time alignment: the joiner reads predictions and feedback of a partition in timestamp order; when one of them is behind (records on the broker not yet fetched), it waits at most this long for them before it reads the other ahead (time spent processing other partitions' records does not count: the consumer was not fetching).",
      },
      state_dir: { kind: 'string', default: null, doc: 'In run: folder for the on-disk (LMDB) join state, rebuilt from the changelog at start. Default: a folder under the system temp dir.' },
      replay_memory_entries: {
        kind: 'int',
        default: 100_000,
        min: 0,
        max: 100_000_000,
        doc: "In replay: pending predictions kept on the heap at most (about 800 bytes each); the oldest beyond it wait on disk (an append-only file in the replay's temp folder under --out, read back as needed, deleted at the end; about 20–40 bytes of index each stay in memory), and so do the times they expire at beyond as many, so memory does not grow with the join window. Larger: a little faster when more are pending, more memory. The outputs are the same either way.",
      },
    },
  },
  evaluator: {
    doc: 'Metrics, segments, fairness and drift from labelled examples (written to ClickHouse, or to files by replay).',
    fields: {
      windows: { kind: 'list', default: ['1h', '1d'], doc: "Tumbling windows by the prediction's timestamp, as durations; each keeps updating while its labels arrive, up to the join window plus window_grace." },
      window_grace: { kind: 'duration', default: '1d', doc: 'How long a tumbling window stays open after its end plus the join window (for late joiner partitions); later examples for it are counted as late.' },
      rolling_size: { kind: 'int', default: 1000, min: 0, max: 1_000_000, doc: 'Sliding count window (`last_<n>`) in label-arrival order; 0 = none.' },
      rolling_emit_every: { kind: 'int', default: 100, min: 1, max: 1_000_000, doc: 'A sliding-window point is written every this many examples of its cell.' },
      segments: { kind: 'boolean', default: true, doc: 'Figures per value of each segments attribute (`region=eu`) besides all examples (`*`).' },
      fairness_attributes: { kind: 'list', default: [], doc: 'Segment attributes to compute fairness gaps across (demographic parity and equal-opportunity differences).' },
      calibration_bins: { kind: 'int', default: 10, min: 1, max: 1000, doc: 'Reliability bins of the expected calibration error.' },
      auc_exact_limit: { kind: 'int', default: 200, min: 1, max: 10_000_000, doc: 'Distinct scores a time window keeps exactly; past it ROC/PR AUC come from score histograms (roc_auc_error_bound is written with them). Sliding windows are always exact.' },
      auc_bins: { kind: 'int', default: 1000, min: 10, max: 1_000_000, doc: 'Score histogram bins once a window is past auc_exact_limit.' },
      drift_reference_size: {
        kind: 'int',
        default: 1000,
        min: 0,
        max: 10_000_000,
        doc: "The first N values of each numeric feature and score form the drift reference (its decile bins fix the PSI bins), and a model's first N records (predictions) the reference of its data quality and categorical drift; 0 = no PSI/KS, data quality or categorical drift.",
      },
      drift_window_size: { kind: 'int', default: 1000, min: 1, max: 10_000_000, doc: 'Each following window of N values (PSI and KS), of N records (data quality, categorical drift) is compared with the reference.' },
      drift_bins: { kind: 'int', default: 10, min: 2, max: 1000, doc: 'PSI bins (quantiles of the reference).' },
      psi_threshold: { kind: 'number', default: 0.2, min: 0, doc: 'PSI above this is a drift.' },
      ks_alpha: { kind: 'number', default: 0.01, min: 0, max: 1, doc: 'Significance level of the KS test (drift when D exceeds its asymptotic critical value).' },
      max_categories: {
        kind: 'int',
        default: 100,
        min: 1,
        max: 100_000,
        doc: "Categories of a categorical feature's drift reference kept apart, per model and feature (the first seen); the reference's later categories are pooled in one `other` bin, as are a window's categories outside the kept ones (counted as new: cat_new_rate, dq_unseen_rate).",
      },
      categorical_alpha: { kind: 'number', default: 0.001, min: 0, max: 1, doc: "A categorical feature drifts when the chi-squared test of a window's categories against the reference's shares has a p-value below this (cat_chi2_p) ..." },
      categorical_js_threshold: { kind: 'number', default: 0.1, min: 0, max: 1, doc: '... or their Jensen–Shannon distance (base 2, in [0, 1]) is above this (cat_js) ...' },
      categorical_min_count: { kind: 'int', default: 100, min: 1, max: 10_000_000, doc: '... over at least this many values of the feature in the window (fewer: the figures are written, no alarm).' },
      missing_rate_rise: {
        kind: 'number',
        default: 0.1,
        min: 0,
        max: 1,
        doc: "Data-quality alarm (dq_missing_rate) when the share of a window's records without a feature is more than this above the share in the drift reference (dq_missing_rate_ref). Features: the first limits.max_features names of each model's records.",
      },
      drift_detectors: { kind: 'boolean', default: true, doc: "ADWIN, Page-Hinkley and (binary) DDM on each model's error stream." },
      drift_detector_order: {
        kind: 'enum',
        values: ['matured', 'arrival'],
        default: 'matured',
        doc: "What the error detectors read. matured: each window of the smallest of `windows` once all its labels are in (the watermark passed its end plus the join window), in prediction-time order: a model that does not change stays quiet when label delay depends on the outcome; an alarm comes a join window after the window it names. arrival: each label as it comes (alarms at once, but a shifting mix of fast and slow labels reads as drift). matured needs a tumbling window.",
      },
      estimate_bins: { kind: 'int', default: 50, min: 2, max: 100_000, doc: 'Score bins of estimated_roc_auc (equal width over [0, 1]), kept per time window that has arrival records (joiner.emit_arrivals).' },
      estimate_trust_windows: {
        kind: 'int',
        default: 24,
        min: 1,
        max: 10_000,
        doc: "The trust check of the estimated figures reads the realised calibration of each cell's last this many matured windows (with labels) of the smallest of evaluator.windows: matured once the model's event time passed their end plus joiner.join_window.",
      },
      estimate_max_calibration_error: { kind: 'number', default: 0.05, min: 0, max: 1, doc: 'estimate_trusted is 1 while the calibration error (ECE) over those matured windows is at most this ...' },
      estimate_min_labels: { kind: 'int', default: 500, min: 1, max: 1_000_000_000, doc: '... over at least this many labels; else 0.' },
      write_partials: {
        kind: 'boolean',
        default: false,
        doc: "In run, and a replay with clickhouse.url (a replay to files computes none): also write each `total` and tumbling window's mergeable partial (binary: its counts, sums, sparse score and calibration bins; regression: its error sums and the labels' mean and centred squares; multiclass: its confusion matrix, rejections per class, log loss, Brier and top-k sums, and its numeric head's regression sums; multilabel: its per-label counts and per-example sums; all: the label-delay sketch) to ClickHouse `metric_partials`, one row per window changed per write, shard = the labelled-examples partition; the view `metric_points_merged` sums the shards and derives the figures (docs/scale-out.md).",
      },
      shard_by: {
        kind: 'enum',
        values: ['model', 'prediction'],
        default: 'model',
        doc: "model: the evaluator reads labelled_examples (key model): one model's figures are one task's, on one core. prediction (run only; replay evaluates unsharded as with model): the joiner also writes every example to topics.sharded_examples keyed by prediction_id, and the evaluator reads that, so one model's evaluation spreads over every partition and `run` instance. A shard then writes only what sums over shards: the partials of the `total` and tumbling windows of every task (metric_partials, as write_partials; read them merged in metric_points_merged) and the labelled_examples audit rows; no metric_points, drift, feedback statistics or charts. So it refuses the figures that do not merge: set rolling_size: 0, drift_reference_size: 0, drift_detectors: false and no fairness_attributes (docs/scale-out.md).",
      },
      flush_rows: { kind: 'int', default: 5000, min: 1, max: 10_000_000, doc: 'Write to ClickHouse once this many examples were applied since the last write, arrival records included (also the most rows per insert).' },
      flush_bytes: { kind: 'int', default: 8_000_000, min: 1000, doc: 'Write once the buffered examples weigh this many bytes (also the most bytes per insert).' },
      flush_interval: { kind: 'duration', default: '5s', doc: 'Write at the latest this long after the first unwritten example.' },
      checkpoint_interval: {
        kind: 'duration',
        default: '5m',
        doc: "In run: a partition's evaluator state is checkpointed (topics.evaluator_checkpoints, gzipped: about 10 MB for 2 models with 25 segments at the default windows, bench:evaluator-checkpoint) at the first flush this long after its last checkpoint; a restart restores the latest and re-reads only the examples after it (at 100 labels/s, at most 30,000 by default). 0s = none: a restart re-reads the partition from its start. (replay writes none: nothing restarts.)",
      },
      max_segment_values: {
        kind: 'int',
        default: DEFAULT_MAX_SEGMENT_VALUES,
        min: 1,
        max: 100_000,
        doc: `Distinct values of a segments attribute the evaluator keeps apart, per model (the first seen, in the order of its input partition); later values are counted in the segment \`<attribute>=${OTHER_SEGMENT_VALUE}\` (a value named ${OTHER_SEGMENT_VALUE} shares it). A restart re-reads the input, so it pools the same values.`,
      },
      max_segment_attributes: {
        kind: 'int',
        default: DEFAULT_MAX_SEGMENT_ATTRIBUTES,
        min: 0,
        max: 10_000,
        doc: 'Distinct segments attributes the evaluator keeps per model (the first seen); examples still count in `*` and their other attributes, the later attributes are not segmented (counted).',
      },
      prometheus_segments: { kind: 'boolean', default: false, doc: 'Export per-segment gauges to Prometheus too (segment values become label values: mind the cardinality).' },
    },
  },
  learner: {
    doc: "Online training of each model's challengers from labelled examples, published as snapshots.",
    fields: {
      snapshot_every: { kind: 'int', default: 1000, min: 1, max: 100_000_000, doc: 'Publish snapshots (with the input offsets, one transaction) after this many examples of a partition (arrival records not counted).' },
      snapshot_interval: { kind: 'duration', default: '30s', doc: '... or this long after the first unpublished example (run only).' },
      train_on_corrections: { kind: 'boolean', default: true, doc: 'A correction cannot be unlearned: learn the corrected label as a new example (true), or skip corrections (false).' },
      max_model_features: {
        kind: 'int',
        default: DEFAULT_MAX_MODEL_FEATURES,
        min: 1,
        max: 1_000_000,
        doc: "Distinct feature names each challenger learns, numeric and categorical each (the first seen; hashed categoricals have no names to count). Later names are ignored when learning, as an unknown name is when scoring (counted). The names learned are in the snapshots, so a restart keeps the same.",
      },
      max_feature_magnitude: { kind: 'number', default: 1e9, min: 1, max: 1e150, doc: 'An example with a numeric feature (or, for a regression model, a label) beyond ± this is not learned: dead-lettered by the learner (stage learner, error class validation). At most 1e150, so that squares of values stay finite in the models\' statistics.' },
    },
  },
  promoter: {
    doc: 'Champion/challenger decisions: an always-valid sequential test on paired per-example losses (see README).',
    fields: {
      alpha: { kind: 'number', default: 0.05, min: 0.0001, max: 0.5, doc: 'False-promotion rate of the test (and of the rollback test).' },
      metric: { kind: 'enum', values: ['default', 'log_loss', 'brier', 'error_rate', 'squared_error'], default: 'default', doc: 'Per-example loss compared; default: log_loss for binary models, squared_error for regression. Multiclass models always compare the multi-class log loss −log p(true class), multilabel models the multi-label log loss (the mean over labels of the binary log loss) (this setting does not apply to them).' },
      min_samples: { kind: 'int', default: 500, min: 1, max: 100_000_000, doc: 'Paired examples before any decision.' },
      min_effect: { kind: 'number', default: 0, min: 0, doc: "Promote only when the lower confidence bound of the mean loss difference exceeds this." },
      max_recall_drop: { kind: 'number', default: 0.05, min: 0, max: 1, doc: "Guardrail (binary): the challenger's recall may be at most this far below the champion's on the same examples." },
      max_ece: { kind: 'number', default: 0.15, min: 0, max: 1, doc: "Guardrail (binary): the challenger's expected calibration error may be at most this. Regression, multiclass and multilabel models have no guardrail." },
      cooldown: { kind: 'duration', default: '6h', doc: 'No automatic decision for a model this long (event time) after one.' },
      watch_examples: { kind: 'int', default: 2000, min: 0, max: 100_000_000, doc: 'Paired examples after a promotion during which a significantly worse new champion is rolled back; 0 = no watch.' },
      maturity: {
        kind: 'duration',
        default: '0s',
        doc: "Delay-aware test: a paired example enters the promotion (and rollback) test only once its prediction is this much older than the latest event time seen, in prediction-time order, so labels that come late (chargebacks, renewals) weigh as much as fast ones. Set it to joiner.join_window (or the longest label delay) when label delay depends on the outcome: with 0s, a challenger better only on the fast-labelled examples can be promoted (README, the promoter). A label that comes after its prediction matured is not tested (counted as late). 0s = as labels arrive.",
      },
      checkpoint_every: {
        kind: 'int',
        default: 10_000,
        min: 0,
        max: 100_000_000,
        doc: "Records of labelled_examples in a partition (arrival records included: a restart re-reads them) between two checkpoints of its promotion policies (topics.promoter_checkpoints, in the transaction of the batch that reaches the count): a restart restores the latest and re-reads only the examples after it. 0 = none: a restart re-reads the partition from its start.",
      },
    },
  },
  limits: {
    doc: "Bounds on input that would otherwise grow the pipeline's state without limit (README, \"Limits, bad input and faults\"). Lengths count UTF-16 code units. A record beyond a per-record limit is dead-lettered (error class validation) by the first processor that reads it, and by those that read the labelled examples made before the limit.",
    fields: {
      max_id_length: { kind: 'int', default: DEFAULT_RECORD_LIMITS.maxIdLength, min: 16, max: 65_536, doc: "Longest prediction_id, model, model_version and feedback source (a labelled example's ids may be 17 longer: `<prediction_id>#<n>`)." },
      max_name_length: { kind: 'int', default: DEFAULT_RECORD_LIMITS.maxNameLength, min: 16, max: 65_536, doc: 'Longest key of features, categorical and segments, and value of categorical and segments.' },
      max_features: { kind: 'int', default: DEFAULT_RECORD_LIMITS.maxFeatures, min: 1, max: 1_000_000, doc: "Most entries of a prediction's features, and of its categorical (each); and the feature names per model the evaluator's data-quality monitor follows (the first seen)." },
      max_segments: { kind: 'int', default: DEFAULT_RECORD_LIMITS.maxSegments, min: 0, max: 10_000, doc: "Most entries of a prediction's segments." },
      max_classes: {
        kind: 'int',
        default: DEFAULT_RECORD_LIMITS.maxClasses,
        min: 2,
        max: 100_000,
        doc: "Most entries of a prediction's class_scores, and items of predicted_labels and of a feedback's labels, labels_added and labels_removed; and most names in models.<name>.classes.",
      },
      max_models: {
        kind: 'int',
        default: DEFAULT_MAX_MODELS,
        min: 1,
        max: 1_000_000,
        doc: 'Distinct models the joiner admits per input partition (the first seen; kept in its changelog, so a restart admits the same). A prediction of any other model is dead-lettered (its feedback ends unmatched). Models configured under models.<name> are always admitted and not counted.',
      },
    },
  },
  http: {
    doc: 'The HTTP endpoint: GET /metrics (Prometheus), /healthz, /readyz and the /v1 API; its address, TLS and credentials serve every path (README, Security; the API: README, HTTP API, and docs/openapi.json).',
    fields: {
      host: {
        kind: 'string',
        default: '127.0.0.1',
        doc: 'Address to listen on: 127.0.0.1 serves this machine only; 0.0.0.0 (or ::) every interface, reachable by anyone on the network: then set TLS and credentials. The container image sets 0.0.0.0 (its published port is the boundary).',
      },
      port: { kind: 'int', default: 9464, min: 0, max: 65535, doc: 'Port; 0 picks a free one.' },
      unhealthy_after: {
        kind: 'duration',
        default: '60s',
        doc: '/readyz answers 503 once a processor has been retrying a failed batch this long (a server down or busy: it keeps retrying); ClickHouse not answering makes it 503 at once.',
      },
      tls_cert_file: { kind: 'string', default: null, doc: 'PEM certificate (chain) file: serve HTTPS instead of HTTP. Set with tls_key_file, or neither. Read at start.' },
      tls_key_file: { kind: 'string', default: null, doc: 'PEM private key file of tls_cert_file. Read at start.' },
      basic_auth_username: { kind: 'string', default: null, doc: 'With basic_auth_password: every path but /healthz requires these credentials (HTTP basic auth), or the bearer token when one is set too.' },
      basic_auth_password: { kind: 'string', default: null, secret: true, doc: 'The basic auth password (plain text: keep it in FEEDBACKLOOP_HTTP_BASIC_AUTH_PASSWORD or a file only its user reads). Without TLS it crosses the network readable.' },
      bearer_token: { kind: 'string', default: null, secret: true, doc: 'Every path but /healthz requires `Authorization: Bearer <token>` (Prometheus: authorization.credentials), or the basic auth credentials when those are set too.' },
      api: {
        kind: 'boolean',
        default: true,
        doc: 'Serve the /v1 API on this endpoint (`run`): POST predictions and feedback into Kafka, read feedback and its statistics from ClickHouse, each model\'s champion, score with the champion snapshot (README, HTTP API). false: /metrics, /healthz and /readyz only.',
      },
      api_max_batch: { kind: 'int', default: 1000, min: 1, max: 100_000, doc: 'Most events one POST /v1/predictions or /v1/feedback may carry (`{"events": [...]}`); more is refused whole with 413.' },
      api_max_body: { kind: 'int', default: 16_777_216, min: 1024, max: 1_073_741_824, doc: 'Largest request body accepted, in bytes (16 MiB); a larger one is refused with 413 before it is parsed.' },
      api_produce_timeout: {
        kind: 'duration',
        default: '10s',
        doc: 'How long a POST of events waits for Kafka to acknowledge them before answering 503 with Retry-After (the events may still be written: a retry can write them twice; the joiner drops exact duplicates).',
      },
      lag_cache: { kind: 'duration', default: '15s', doc: 'feedbackloop_consumer_lag is computed (Kafka admin calls per group and topic) at most once per this interval; scrapes in between, and concurrent ones, get the same figures. 0 = at every scrape.' },
    },
  },
  run: {
    doc: '`feedbackloop run` as a process.',
    fields: {
      stop_timeout: {
        kind: 'duration',
        default: '25s',
        doc: 'How long a stop (SIGTERM or SIGINT) may take: past it, run logs at error level what the stop was waiting on (a processor, the producer, a client; and the open sockets and timers) and exits with code 1. Safe: what was not committed is processed again at the next start, with the same results. Below an orchestrator\'s grace period (Kubernetes: 30 s), so the reason is logged before a SIGKILL. A second signal while stopping exits at once. 0 = wait for ever.',
      },
    },
  },
  log: {
    doc: 'Logging (JSON lines on stderr, pino).',
    fields: {
      level: { kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', doc: 'Lowest level written.' },
    },
  },
} as const satisfies Record<string, SectionSpec>;

/** What a field of this kind holds once loaded (a duration: milliseconds). */
type LoadedKind<F extends FieldSpec> = F extends { kind: 'string' | 'url' }
  ? string
  : F extends { kind: 'int' | 'number' | 'duration' | 'timestamp' }
    ? number
    : F extends { kind: 'boolean' }
      ? boolean
      : F extends { kind: 'enum'; values: readonly (infer V)[] }
        ? V
        : never;

/** A loaded field: a list is always a list (empty when unset); any other kind without a default may be null. */
export type FieldValue<F extends FieldSpec> = F extends { kind: 'list' }
  ? string[]
  : F extends { default: NonNullable<unknown> }
    ? LoadedKind<F>
    : LoadedKind<F> | null;

/** The loaded values of a table of fields, one per key. */
export type FieldValues<Fields extends Record<string, FieldSpec>> = { -readonly [K in keyof Fields]: FieldValue<Fields[K]> };

/** `models.<name>`, typed from MODEL_FIELDS. */
export type ModelConfig = FieldValues<typeof MODEL_FIELDS>;

type Sections = typeof CONFIG_SPEC;

type SectionValues = { -readonly [S in keyof Sections]: FieldValues<Sections[S]['fields']> };

/**
 * The loaded configuration, typed from CONFIG_SPEC and MODEL_FIELDS. A type
 * (not an interface) so that it is also a Record<string, ...>: the loader
 * reads and redacts it section by section.
 */
export type Config = SectionValues & { models: Record<string, ModelConfig> };
