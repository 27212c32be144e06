/**
 * POST /v1/models/{model}/score behind the route: the scorer library's
 * ChampionScorer (scorer/), one per model asked about, started at its first
 * request (it reads model-snapshots and model-promotions and follows every
 * promotion from then on) and kept for the next ones: at most MAX_SCORERS,
 * the least recently used closed beyond. The champion endpoint's answer
 * comes first: an unknown model is 404, a champion upstream serves itself
 * (not one of our snapshots) 409.
 */
import { ApiProblem, invalid, unavailable } from '../../adapters/http/api/problem.js';
import type { ChampionAnswer, ScoreAnswer } from '../../adapters/http/api/services.js';
import type { Codecs } from '../../adapters/codec/codecs.js';
import type { LogTransport } from '../../adapters/transport/transport.js';
import { contractField } from '../../core/contract-field.js';
import { errorMessage, ValidationError } from '../../core/errors.js';
import { validatePrediction } from '../../core/events.js';
import type { RecordLimits } from '../../core/limits.js';
import type { ModelInput } from '../../core/models/index.js';
import { ChampionScorer, OwnModelError } from '../../scorer/index.js';

export const MAX_SCORERS = 32;

export interface ScoringDeps {
  transport: LogTransport;
  codecs: Pick<Codecs, 'snapshot' | 'promotion'>;
  topics: { snapshots: string; promotions: string };
  /** The scorers' consumer groups start with it (runtime/acls.ts grants it). */
  groupPrefix: string;
  limits: RecordLimits;
  champion: (model: string) => Promise<ChampionAnswer | undefined>;
  /** How long a request waits for a new scorer to load the champion (default 10 s). */
  loadMs?: number;
  onError?: (error: Error) => void;
}

/** The features of a prediction, checked as a prediction's are (limits, finite numbers, strings). */
export function modelInput(body: { features: unknown; categorical?: unknown }, limits: RecordLimits): ModelInput {
  const probe = { prediction_id: 'score', model: 'score', model_version: 'score', timestamp: 0, score: 0, features: body.features, categorical: body.categorical };
  try {
    const { features, categorical } = validatePrediction(probe, limits);
    return { features, categorical };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw invalid(contractField(error.message), error.message.replace(/^prediction: /, ''));
  }
}

export class ChampionScorers {
  /** Model -> its scorer (a Map: insertion order is the use order, oldest first). */
  private readonly scorers = new Map<string, Promise<ChampionScorer>>();

  constructor(private readonly deps: ScoringDeps) {}

  async score(model: string, body: { features: unknown; categorical?: unknown }): Promise<ScoreAnswer> {
    const input = modelInput(body, this.deps.limits);
    const champion = await this.deps.champion(model);
    if (!champion) throw new ApiProblem(404, 'unknown_model', `no decision, registry entry or figures name model ${JSON.stringify(model)}`);
    if (!champion.our_snapshot) throw this.ownModel(model, champion.version);
    const scorer = await this.scorerOf(model);
    const deadline = Date.now() + (this.deps.loadMs ?? 10_000);
    while (!scorer.champion()) {
      if (Date.now() > deadline) throw unavailable(`the champion snapshot of model ${model} (${champion.version}) is not loaded yet: ask again shortly`, 2);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    try {
      const scored = scorer.score(input);
      const { score, version } = scored;
      if (scored.classes === undefined) return { model, version, score };
      // A null-prototype map (class names are input): as a prediction's class_scores.
      const classScores = Object.create(null) as Record<string, number>;
      scored.classes.forEach((name, i) => (classScores[name] = scored.probabilities![i]!));
      if (scored.predicted_labels !== undefined) return { model, version, score, class_scores: classScores, predicted_labels: scored.predicted_labels };
      return { model, version, score, class_scores: classScores, predicted_class: scored.predicted_class! };
    } catch (error) {
      if (error instanceof OwnModelError) throw this.ownModel(model, error.version);
      throw error;
    }
  }

  async close(): Promise<void> {
    const all = [...this.scorers.values()];
    this.scorers.clear();
    await Promise.all(all.map((s) => s.then((scorer) => scorer.close()).catch(() => {})));
  }

  private ownModel(model: string, version: string | null): ApiProblem {
    return new ApiProblem(409, 'not_our_snapshot', version === null
      ? `model ${model} has no champion version yet: nothing to score with`
      : `the champion of model ${model} is ${version}, a model upstream serves itself (not one of our snapshots <model>/<challenger>@<n>): score with your own model`);
  }

  private async scorerOf(model: string): Promise<ChampionScorer> {
    let scorer = this.scorers.get(model);
    if (scorer) {
      this.scorers.delete(model);
      this.scorers.set(model, scorer);
      return scorer;
    }
    if (this.scorers.size >= MAX_SCORERS) {
      const [oldest, evicted] = this.scorers.entries().next().value as [string, Promise<ChampionScorer>];
      this.scorers.delete(oldest);
      void evicted.then((s) => s.close()).catch(() => {});
    }
    const { transport, codecs, topics, groupPrefix, onError } = this.deps;
    scorer = ChampionScorer.start({ transport, codecs, topics, model, groupPrefix, ...(onError ? { onError } : {}) });
    this.scorers.set(model, scorer);
    try {
      return await scorer;
    } catch (error) {
      if (this.scorers.get(model) === scorer) this.scorers.delete(model);
      throw unavailable(`cannot follow model ${model}'s champion: ${errorMessage(error)}`, 5);
    }
  }
}
