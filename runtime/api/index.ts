/**
 * The services behind the /v1 API of `run` (adapters/http/api has the
 * routes): events into Kafka (ingest.ts), each model's champion
 * (champions.ts) and scoring with it (scoring.ts), feedback and its
 * statistics from ClickHouse (feedback.ts; what the learner has not learned
 * yet: learning-backlog.ts, learner-position.ts), on the running process's
 * connections (its transport, codecs, producer and ClickHouse store).
 */
import type { ApiServices } from '../../adapters/http/api/services.js';
import type { LogProducer } from '../../adapters/transport/transport.js';
import { redactUrl } from '../../core/redact.js';
import { clickhouseOptions, type Runtime } from '../connect.js';
import { apiScorerGroupPrefix } from '../acls.js';
import { recordLimits } from '../settings.js';
import { ChampionReader } from './champions.js';
import { FeedbackQueries } from './feedback.js';
import { learnerSource } from './learner-position.js';
import { EventIngest } from './ingest.js';
import { ChampionScorers } from './scoring.js';

export { ChampionReader, championAnswer } from './champions.js';
export { ChampionScorers, MAX_SCORERS, modelInput } from './scoring.js';
export { EventIngest } from './ingest.js';
export { FeedbackQueries, decodeCursor, encodeCursor, listQuery, statsQueries } from './feedback.js';
export { feedbackStats } from './feedback-stats.js';
export { learnerSource, type LearnerSource } from './learner-position.js';
export { backlogQueries, learningBacklog, MAX_BACKLOG_CHALLENGERS } from './learning-backlog.js';

export interface RunningApi extends ApiServices {
  close(): Promise<void>;
}

export function apiServices(runtime: Pick<Runtime, 'config' | 'transport' | 'codecs' | 'clickhouse' | 'logger'>, producer: LogProducer): RunningApi {
  const { config, clickhouse: store } = runtime;
  const ch = clickhouseOptions(config);
  const where = ch ? { url: redactUrl(ch.url), database: ch.database } : undefined;
  const ingest = new EventIngest({ config, codecs: runtime.codecs, producer });
  const champions = new ChampionReader({ runtime, ...(store && where ? { clickhouse: { store, ...where } } : {}) });
  const scorers = new ChampionScorers({
    transport: runtime.transport,
    codecs: runtime.codecs,
    topics: { snapshots: config.topics.model_snapshots, promotions: config.topics.model_promotions },
    groupPrefix: apiScorerGroupPrefix(config.kafka.client_id),
    limits: recordLimits(config),
    champion: (model) => champions.champion(model),
    onError: (error) => runtime.logger.warn({ err: error }, 'the API\'s champion scorer skipped something'),
  });
  return {
    maxBatch: config.http.api_max_batch,
    post: (kind, events, batched) => ingest.post(kind, events, batched),
    champion: (model) => champions.champion(model),
    score: (model, input) => scorers.score(model, input),
    feedback: store && where ? new FeedbackQueries(store, `${where.url} (database ${where.database})`, learnerSource(config, runtime.transport)) : undefined,
    close: () => scorers.close(),
  };
}
