/**
 * The ClickHouse adapter: connects, runs the migrations, inserts rows
 * (JSONEachRow) and reads them back. Errors say whether a retry can help.
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { FeedbackloopError } from '../../core/errors.js';
import { redactUrl, redactUrlsIn } from '../../core/redact.js';
import { MIGRATIONS, MIGRATIONS_TABLE, type Migration } from './migrations.js';

export interface ClickHouseOptions {
  url: string;
  database: string;
  username: string;
  password: string;
  requestTimeoutMs: number;
  /** PEM of the CA(s) that sign an https:// server's certificate, instead of the system's (clickhouse.ca_file). */
  caCert?: Buffer;
  /** No log lines of the client's own on stderr (its failures still reach the caller, as errors). */
  quiet?: boolean;
}

/**
 * What a failed call means for the rows it carried:
 * - `unavailable`: the server cannot be reached or is busy; the same call may succeed later (retry).
 * - `too_large`: the batch exceeds a server limit; smaller batches may succeed (split).
 * - `rejected_row`: the server refused the content of a row; the other rows may succeed (split, isolate it).
 * - `fatal`: anything else (SQL, unknown table, auth, an aborted request): neither retrying nor splitting helps.
 */
export type ClickHouseErrorKind = 'unavailable' | 'too_large' | 'rejected_row' | 'fatal';

/**
 * Server error codes (ClickHouse src/Common/ErrorCodes.cpp; the numbers of
 * 18.16 and current releases agree). Only what a retry can fix is here as
 * `unavailable`: a server down, busy or between replicas.
 */
const SERVER_CODES = new Map<string, ClickHouseErrorKind>([
  ['159', 'unavailable'], // TIMEOUT_EXCEEDED (a slow server)
  ['201', 'unavailable'], // QUOTA_EXPIRED (passes with the quota's interval)
  ['202', 'unavailable'], // TOO_MANY_SIMULTANEOUS_QUERIES
  ['203', 'unavailable'], // NO_FREE_CONNECTION
  ['209', 'unavailable'], // SOCKET_TIMEOUT
  ['210', 'unavailable'], // NETWORK_ERROR
  ['225', 'unavailable'], // NO_ZOOKEEPER
  ['242', 'unavailable'], // TABLE_IS_READ_ONLY (a replica without its ZooKeeper session)
  ['252', 'unavailable'], // TOO_MANY_PARTS (merges catch up)
  ['285', 'unavailable'], // TOO_FEW_LIVE_REPLICAS
  ['319', 'unavailable'], // UNKNOWN_STATUS_OF_INSERT
  ['439', 'unavailable'], // CANNOT_SCHEDULE_TASK (thread pool exhausted)
  ['999', 'unavailable'], // KEEPER_EXCEPTION
  ['39', 'too_large'], // TOO_LARGE_SIZE_COMPRESSED
  ['128', 'too_large'], // TOO_LARGE_ARRAY_SIZE
  ['131', 'too_large'], // TOO_LARGE_STRING_SIZE
  ['158', 'too_large'], // TOO_MANY_ROWS
  ['173', 'too_large'], // CANNOT_ALLOCATE_MEMORY
  ['241', 'too_large'], // MEMORY_LIMIT_EXCEEDED
  ['307', 'too_large'], // TOO_MANY_BYTES
  ['396', 'too_large'], // TOO_MANY_ROWS_OR_BYTES
  ['6', 'rejected_row'], // CANNOT_PARSE_TEXT
  ['25', 'rejected_row'], // CANNOT_PARSE_ESCAPE_SEQUENCE
  ['26', 'rejected_row'], // CANNOT_PARSE_QUOTED_STRING (e.g. an object for a String column)
  ['27', 'rejected_row'], // CANNOT_PARSE_INPUT_ASSERTION_FAILED (e.g. a string for a number, an exponent for an integer)
  ['38', 'rejected_row'], // CANNOT_PARSE_DATE
  ['41', 'rejected_row'], // CANNOT_PARSE_DATETIME
  ['53', 'rejected_row'], // TYPE_MISMATCH
  ['69', 'rejected_row'], // ARGUMENT_OUT_OF_BOUND
  ['70', 'rejected_row'], // CANNOT_CONVERT_TYPE
  ['72', 'rejected_row'], // CANNOT_PARSE_NUMBER (e.g. a negative number for an unsigned column)
  ['117', 'rejected_row'], // INCORRECT_DATA (e.g. a field the table does not have)
  ['130', 'rejected_row'], // CANNOT_READ_ARRAY_FROM_TEXT
  ['190', 'rejected_row'], // SIZES_OF_ARRAYS_DOESNT_MATCH
  ['321', 'rejected_row'], // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  ['349', 'rejected_row'], // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  ['376', 'rejected_row'], // CANNOT_PARSE_UUID
  ['407', 'rejected_row'], // DECIMAL_OVERFLOW
  ['441', 'rejected_row'], // CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING
  ['467', 'rejected_row'], // CANNOT_PARSE_BOOL
  ['469', 'rejected_row'], // VIOLATED_CONSTRAINT
]);

/** Node's codes for a connection that failed or broke (on the error or its cause). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * @clickhouse/client 1.x rejects a request that outlived `request_timeout`
 * with a plain `new Error('Timeout error.')` and no code: the one client
 * error recognised by its (whole, exact) message.
 */
const CLIENT_TIMEOUT_MESSAGE = 'Timeout error.';

/**
 * The server's error response starts with `Code: <n>`: `Code: 27, e.displayText() = ...`
 * (18.16) or `Code: 27. DB::Exception: ... (TYPE) (version ...)`. The client
 * parses only the newer form into a ClickHouseError with `code`; the older one
 * reaches us as a plain Error, so we read the number at the start of the
 * response ourselves. Nothing else of the message is looked at.
 */
const SERVER_CODE_PREFIX = /^Code: (\d+)[.,]/;

/** A failed ClickHouse call: `kind` says what may help, `serverCode` is the server's error code if it sent one. */
export class ClickHouseCallError extends FeedbackloopError {
  readonly kind: ClickHouseErrorKind;
  readonly serverCode: string | undefined;

  constructor(message: string, kind: ClickHouseErrorKind, serverCode: string | undefined, cause: unknown) {
    // A fatal error (a missing table, refused credentials) would fail every row: systemic, never a poison record.
    super(message, { retriable: kind === 'unavailable', systemic: kind === 'fatal', cause });
    this.kind = kind;
    this.serverCode = serverCode;
  }
}

/** The server's error code carried by `error`, if any. */
export function serverErrorCode(error: unknown): string | undefined {
  if (error instanceof ClickHouseCallError) return error.serverCode;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && /^\d+$/.test(code)) return code;
  if (typeof message === 'string') return SERVER_CODE_PREFIX.exec(message)?.[1];
  return undefined;
}

/** What a failed ClickHouse call means for its rows (see ClickHouseErrorKind). */
export function insertFailure(error: unknown): ClickHouseErrorKind {
  if (error instanceof ClickHouseCallError) return error.kind;
  const server = serverErrorCode(error);
  if (server !== undefined) return SERVER_CODES.get(server) ?? 'fatal';
  if (networkFailure(error)) return 'unavailable';
  return 'fatal';
}

/** A connection refused, reset or timed out: Node's code on the error or on a cause a few levels down. */
function networkFailure(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (message === CLIENT_TIMEOUT_MESSAGE && code === undefined) return true;
    current = cause;
  }
  return false;
}

/** Our error for a failed call: its message, and its kind (retriable only when `unavailable`). */
export function clickhouseError(action: string, error: unknown): FeedbackloopError {
  if (error instanceof FeedbackloopError) return error;
  const message = (error as { message?: unknown })?.message;
  // The client's and Node's messages may quote a URL: never with its credentials.
  const text = redactUrlsIn(typeof message === 'string' ? message : String(error));
  return new ClickHouseCallError(`clickhouse: ${action}: ${text}`, insertFailure(error), serverErrorCode(error), error);
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

/** The @clickhouse/client settings of these options (exported for the tests of the TLS plumbing). */
export function clientOptions(options: ClickHouseOptions) {
  return {
    url: options.url,
    username: options.username,
    password: options.password,
    request_timeout: options.requestTimeoutMs,
    ...(options.caCert ? { tls: { ca_cert: options.caCert } } : {}),
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
      throw clickhouseError(`cannot create database ${database} at ${redactUrl(options.url)}`, error);
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
      await this.apply(migration);
      await this.insert(MIGRATIONS_TABLE, [{ id: migration.id, name: migration.name, applied_at: Math.floor(Date.now() / 1000) }]);
      ran.push(migration.id);
    }
    return ran;
  }

  /** Runs one migration (idempotent: it may run again, or at once in another instance). */
  async apply(migration: Migration): Promise<void> {
    if ('sql' in migration) await this.command(migration.sql);
    else await this.addColumns(migration.addColumns.table, migration.addColumns.columns);
  }

  /**
   * Adds the columns `table` lacks, each with ALTER TABLE ... ADD COLUMN (no IF NOT EXISTS
   * in 18.16): a column another instance added meanwhile is taken as added.
   */
  async addColumns(table: string, columns: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const name = sqlIdentifier(table);
    const existing = async () => new Set((await this.select<{ name: string }>(`SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ${sqlString(name)}`)).map((c) => c.name));
    const present = await existing();
    for (const [column, type] of columns) {
      if (present.has(column)) continue;
      try {
        await this.command(`ALTER TABLE ${name} ADD COLUMN ${sqlIdentifier(column)} ${type}`);
      } catch (error) {
        if (!(await existing()).has(column)) throw error;
      }
    }
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
