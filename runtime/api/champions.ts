/**
 * GET /v1/models/{model}/champion behind the route: the answer of
 * `feedbackloop status` (runtime/status/gather-champions.ts: the
 * model-promotions topic, champion_history, the figures' champion role), read
 * at most once per `cacheMs` whatever the number of callers (concurrent ones
 * share one read), plus whether the version is one of our snapshots and, with
 * ClickHouse, whether the registry has it.
 */
import { bindParams, type ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { unavailable } from '../../adapters/http/api/problem.js';
import type { ChampionAnswer } from '../../adapters/http/api/services.js';
import { parseSnapshotVersion } from '../../core/contracts/index.js';
import type { Runtime } from '../connect.js';
import { gatherChampions, shardedByPrediction, type ChampionStatus, type StatusProblem } from '../status/index.js';
import { latestFigures } from '../status/gather-clickhouse.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** A champion as `status` reads it, as the API answers it (`found`: the registry has the snapshot; null: not looked up). */
export function championAnswer(status: ChampionStatus, found: boolean | null, problems: readonly StatusProblem[]): ChampionAnswer {
  const d = status.decision;
  const notes = [status.note, ...problems.map((p) => p.message)].filter((n): n is string => n !== null);
  return {
    model: status.model,
    version: status.version,
    since: d ? iso(d.decided_at) : null,
    decided_by: d ? d.actor : null,
    decision: d ? { id: d.decision_id, kind: d.decision, policy: d.policy, actor: d.actor, from_version: d.from_version, reason: d.reason, evidence_at: iso(d.at) } : null,
    our_snapshot: status.version !== null && parseSnapshotVersion(status.version)?.model === status.model,
    snapshot_found: found,
    pinned: status.pinned ? { by: status.pinned.actor, reason: status.pinned.reason, since: iso(status.pinned.decided_at) } : null,
    sources: status.sources,
    note: notes.length > 0 ? notes.join('; ') : null,
  };
}

interface Read {
  champions: Map<string, ChampionStatus>;
  problems: StatusProblem[];
}

export interface ChampionReaderOptions {
  runtime: Pick<Runtime, 'config' | 'transport' | 'codecs'>;
  clickhouse?: { store: ClickHouseStore; url: string; database: string };
  /** How long one read answers (default 2 s). */
  cacheMs?: number;
  now?: () => number;
}

export class ChampionReader {
  private cached: { at: number; read: Promise<Read> } | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ChampionReaderOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Undefined for a model no source names; 503 when the promotions topic (or, for an unknown model, ClickHouse) could not be read. */
  async champion(model: string): Promise<ChampionAnswer | undefined> {
    const read = await this.read();
    const kafka = read.problems.find((p) => p.server !== 'clickhouse');
    if (kafka) throw unavailable(`cannot read the champions: ${kafka.message}`, 5);
    const status = read.champions.get(model);
    if (!status) {
      const clickhouse = read.problems.find((p) => p.server === 'clickhouse');
      if (clickhouse) throw unavailable(`model ${JSON.stringify(model)} is not on the promotions topic, and ClickHouse could not be read: ${clickhouse.message}`, 5);
      return undefined;
    }
    const answer = championAnswer(status, null, read.problems);
    if (answer.our_snapshot && this.options.clickhouse && read.problems.length === 0) answer.snapshot_found = await this.registered(model, status.version!);
    return answer;
  }

  /** Whether model_versions (the registry's copy of model-snapshots) has the version; null when it cannot say. */
  private async registered(model: string, version: string): Promise<boolean | null> {
    const sql = bindParams('SELECT count() AS n FROM model_versions FINAL WHERE model = {model:String} AND version = {version:String}', { model, version });
    try {
      const [row] = await this.options.clickhouse!.store.select<{ n: string | number }>(sql);
      return Number(row?.n ?? 0) > 0;
    } catch {
      return null;
    }
  }

  private read(): Promise<Read> {
    const now = this.now();
    if (this.cached && now - this.cached.at < (this.options.cacheMs ?? 2_000)) return this.cached.read;
    const read = this.gather(now);
    this.cached = { at: now, read };
    read.catch(() => {
      if (this.cached?.read === read) this.cached = undefined;
    });
    return read;
  }

  private async gather(now: number): Promise<Read> {
    const problems: StatusProblem[] = [];
    const fail = (server: string, message: string, retriable = true) => void problems.push({ server, message, retriable });
    const ch = this.options.clickhouse;
    const figures = ch ? latestFigures(ch.store, ch.url, ch.database, 'total', now, fail, shardedByPrediction(this.options.runtime.config)).then((f) => f?.rows) : undefined;
    const list = await gatherChampions({ runtime: this.options.runtime, ...(ch ? { clickhouse: ch } : {}), ...(figures ? { figures } : {}) }, fail, () => {});
    return { champions: new Map(list.map((c) => [c.model, c])), problems };
  }
}
