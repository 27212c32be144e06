/**
 * The ClickHouse adapter: connects, runs the migrations, inserts rows
 * (JSONEachRow) and reads them back. Errors say whether a retry can help.
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { FeedbackloopError } from '../../core/errors.js';
import { MIGRATIONS, MIGRATIONS_TABLE, type Migration } from './migrations.js';

export interface ClickHouseOptions {
  url: string;
  database: string;
  username: string;
  password: string;
  requestTimeoutMs: number;
  /** No log lines of the client's own on stderr (its failures still reach the caller, as errors). */
  quiet?: boolean;
}

/** Network failures and server overload are worth a retry; SQL and type errors are not. */
const RETRIABLE_SERVER_CODES = new Set([
  '159', // TIMEOUT_EXCEEDED
  '164', // READONLY (replica catching up)
  '202', // TOO_MANY_SIMULTANEOUS_QUERIES
  '203', // NO_FREE_CONNECTION
  '209', // SOCKET_TIMEOUT
  '210', // NETWORK_ERROR
  '241', // MEMORY_LIMIT_EXCEEDED
  '252', // TOO_MANY_PARTS
  '285', // TOO_FEW_LIVE_REPLICAS
  '319', // UNKNOWN_STATUS_OF_INSERT
]);
const RETRIABLE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

export function clickhouseError(action: string, error: unknown): FeedbackloopError {
  if (error instanceof FeedbackloopError) return error;
  const e = error as { code?: unknown; message?: string };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = e?.message ?? String(error);
  const retriable =
    (code !== undefined && (RETRIABLE_SERVER_CODES.has(code) || RETRIABLE_NETWORK_CODES.has(code))) ||
    /timeout|socket hang up|ECONNREFUSED|ECONNRESET/i.test(message);
  return new FeedbackloopError(`clickhouse: ${action}: ${message}`, { retriable, cause: error });
}

/** Quotes a string for a ClickHouse SQL literal (ClickHouse 18.16 has no query parameters). */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A ClickHouse identifier we create ourselves: letters, digits, underscores. */
export function sqlIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new FeedbackloopError(`not a valid ClickHouse identifier: ${JSON.stringify(name)}`);
  return name;
}

function clientOptions(options: ClickHouseOptions) {
  return {
    url: options.url,
    username: options.username,
    password: options.password,
    request_timeout: options.requestTimeoutMs,
    ...(options.quiet ? { log: { level: ClickHouseLogLevel.OFF } } : {}),
  };
}

export class ClickHouseStore {
  readonly client: ClickHouseClient;

  private constructor(
    readonly options: ClickHouseOptions,
    client: ClickHouseClient,
  ) {
    this.client = client;
  }

  /** Connects, creates the database if needed and applies missing migrations. */
  static async open(options: ClickHouseOptions, migrations: Migration[] = MIGRATIONS): Promise<ClickHouseStore> {
    const database = sqlIdentifier(options.database);
    const bootstrap = createClient(clientOptions(options));
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    } catch (error) {
      throw clickhouseError(`cannot create database ${database} at ${options.url}`, error);
    } finally {
      await bootstrap.close();
    }
    const store = ClickHouseStore.connect(options);
    await store.migrate(migrations);
    return store;
  }

  /**
   * A store on a database that already exists, without creating or migrating
   * anything: nothing goes over the network until the first call.
   */
  static connect(options: ClickHouseOptions): ClickHouseStore {
    const database = sqlIdentifier(options.database);
    return new ClickHouseStore(options, createClient({ ...clientOptions(options), database }));
  }

  async ping(): Promise<boolean> {
    const result = await this.client.ping();
    return result.success;
  }

  async migrate(migrations: Migration[]): Promise<number[]> {
    await this.command(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id UInt32, name String, applied_at DateTime) ENGINE = ReplacingMergeTree() ORDER BY id`,
    );
    const applied = new Set((await this.select<{ id: number }>(`SELECT id FROM ${MIGRATIONS_TABLE} FINAL`)).map((r) => Number(r.id)));
    const ran: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.id - b.id)) {
      if (applied.has(migration.id)) continue;
      await this.command(migration.sql);
      await this.insert(MIGRATIONS_TABLE, [{ id: migration.id, name: migration.name, applied_at: Math.floor(Date.now() / 1000) }]);
      ran.push(migration.id);
    }
    return ran;
  }

  async command(sql: string): Promise<void> {
    try {
      await this.client.command({ query: sql, clickhouse_settings: { wait_end_of_query: 1 } });
    } catch (error) {
      throw clickhouseError(`command failed: ${sql.split('\n')[0]}`, error);
    }
  }

  /** Inserts rows (JSONEachRow); `signal` aborts the request in flight. */
  async insert(table: string, rows: object[], options: { signal?: AbortSignal } = {}): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.client.insert({
        table: sqlIdentifier(table),
        values: rows,
        format: 'JSONEachRow',
        ...(options.signal ? { abort_signal: options.signal } : {}),
      });
    } catch (error) {
      throw clickhouseError(`insert into ${table} (${rows.length} rows) failed`, error);
    }
  }

  async select<T>(sql: string): Promise<T[]> {
    try {
      const result = await this.client.query({ query: sql, format: 'JSONEachRow' });
      return (await result.json()) as T[];
    } catch (error) {
      throw clickhouseError(`query failed: ${sql.split('\n')[0]}`, error);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
