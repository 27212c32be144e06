/**
 * `feedbackloop status`: the report, what every section answered and what
 * failed. runtime/status/gather.ts builds it; format.ts prints it as text,
 * the command as JSON.
 */
import type { ChampionStatus } from './champions.js';
import type { GroupStatus } from './consumer-lag.js';
import type { ModelFigures } from './figures.js';
import type { PendingJoins } from './pending-joins.js';

export interface StatusProblem {
  /** The server that failed: kafka, schema registry, clickhouse. */
  server: string;
  /** What failed and what to check. */
  message: string;
  /** Could asking again help (a server down or busy), or must something be set up or fixed first? */
  retriable: boolean;
}

export interface StatusReport {
  at: number;
  kafka: { brokers: string[]; client_id: string };
  clickhouse: { url: string; database: string } | null;
  champions: ChampionStatus[];
  figures: { window: string; models: ModelFigures[] } | null;
  pending: PendingJoins;
  lag: GroupStatus[];
  /** Facts worth knowing that are not failures (a topic not created yet, no ClickHouse configured). */
  notes: string[];
  problems: StatusProblem[];
}

/** Records a problem of the report (once per message): the server, what failed and what to check, whether asking again may help (default yes). */
export type Fail = (server: string, message: string, retriable?: boolean) => void;
