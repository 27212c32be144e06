/**
 * ClickHouse failures are classified by the server's error code (and Node's
 * network codes), never by words in the message: a syntax error whose text
 * says "timeout" is not retried, a memory limit is `too_large`, a row's bad
 * content `rejected_row`. The errors here are the ones the real client
 * produces: its ClickHouseError, its plain Error for a 18.16 server's
 * response (which its parser does not recognise), its request timeout and
 * a refused connection, the last ones from the real client against
 * in-process servers.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { ClickHouseError, parseError } from '@clickhouse/client';
import { afterEach, describe, expect, it } from 'vitest';
import { ClickHouseCallError, ClickHouseStore, clickhouseError, insertFailure, serverErrorCode } from '../../adapters/clickhouse/store.js';
import { FeedbackloopError, isRetriable } from '../../core/errors.js';

/** A 18.16 server's error response, as the client hands it on (a plain Error). */
const old = (code: number, text: string) => new Error(`Code: ${code}, e.displayText() = DB::Exception: ${text}, e.what() = DB::Exception\n`);
/** A current server's error response, parsed by the client into a ClickHouseError. */
const current = (code: number, type: string, text: string) => parseError(`Code: ${code}. DB::Exception: ${text}. (${type}) (version 24.8.4.13 (official build))\n`);
const networkError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:8123`), { code });

describe('insertFailure', () => {
  it('reads the code of a current server from the client’s ClickHouseError', () => {
    const error = current(27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED', 'Cannot parse input: expected \'"\' before: \'abc\'');
    expect(error).toBeInstanceOf(ClickHouseError);
    expect((error as ClickHouseError).code).toBe('27');
    expect(insertFailure(error)).toBe('rejected_row');
    expect(insertFailure(new ClickHouseError({ message: 'Memory limit (for query) exceeded', code: '241', type: 'MEMORY_LIMIT_EXCEEDED' }))).toBe('too_large');
    expect(insertFailure(current(202, 'TOO_MANY_SIMULTANEOUS_QUERIES', 'Too many simultaneous queries. Maximum: 100'))).toBe('unavailable');
    expect(insertFailure(current(60, 'UNKNOWN_TABLE', 'Table feedbackloop.nope does not exist'))).toBe('fatal');
  });

  it('reads the code at the start of a 18.16 response, which the client leaves a plain Error', () => {
    const error = old(27, 'Cannot parse input: expected " before: abc"}: (while read the value of key a): (at row 1)');
    expect(parseError(error)).not.toBeInstanceOf(ClickHouseError);
    expect(serverErrorCode(error)).toBe('27');
    expect(insertFailure(error)).toBe('rejected_row');
    expect(insertFailure(old(72, "Unsigned type must not contain '-' symbol: (while read the value of key a): (at row 1)"))).toBe('rejected_row');
    expect(insertFailure(old(117, 'Unknown field found while parsing JSONEachRow format: zz: (at row 1)'))).toBe('rejected_row');
    expect(insertFailure(old(241, 'Memory limit (for query) exceeded: would use 2.38 GiB'))).toBe('too_large');
    expect(insertFailure(old(252, 'Too many parts (300). Merges are processing significantly slower than inserts.'))).toBe('unavailable');
    expect(insertFailure(old(192, 'Unknown user nobody'))).toBe('fatal');
  });

  it('does not retry an error because its message says timeout, socket hang up or ECONNREFUSED', () => {
    const syntax = old(62, 'Syntax error: failed at position 1: timeout socket hang up ECONNREFUSED');
    expect(insertFailure(syntax)).toBe('fatal');
    expect(insertFailure(current(62, 'SYNTAX_ERROR', 'Syntax error: failed at position 8 (timeout)'))).toBe('fatal');
    // A row's content echoed in a parse error.
    expect(insertFailure(old(27, 'Cannot parse input: expected , before: "timeout ECONNRESET"'))).toBe('rejected_row');
    // A message that merely starts with a code further in is not a server response.
    expect(insertFailure(new Error('request timeout; Code: 209, e.displayText() = DB::Exception: Timeout'))).toBe('fatal');
    expect(insertFailure(new Error('Request timeout exceeded'))).toBe('fatal');
    expect(isRetriable(clickhouseError('insert into t', syntax))).toBe(false);
  });

  it('retries Node network failures, by the code on the error or on its cause', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']) {
      expect(insertFailure(networkError(code))).toBe('unavailable');
    }
    expect(insertFailure(new Error('fetch failed', { cause: networkError('ECONNRESET') }))).toBe('unavailable');
    expect(insertFailure(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe('fatal');
    expect(insertFailure(new Error('The user aborted a request.'))).toBe('fatal');
    expect(insertFailure('a string')).toBe('fatal');
    expect(insertFailure(undefined)).toBe('fatal');
  });

  it('carries the kind, the server code and the retriable flag on the error it builds', () => {
    const error = clickhouseError('insert into t (3 rows) failed', old(241, 'Memory limit (for query) exceeded'));
    expect(error).toBeInstanceOf(ClickHouseCallError);
    expect(error).toMatchObject({ kind: 'too_large', serverCode: '241', retriable: false });
    expect(error.message).toMatch(/^clickhouse: insert into t \(3 rows\) failed: Code: 241/);
    expect(insertFailure(error)).toBe('too_large');
    expect(clickhouseError('ping', networkError('ECONNREFUSED'))).toMatchObject({ kind: 'unavailable', serverCode: undefined, retriable: true });
    const ours = new FeedbackloopError('already ours', { retriable: true });
    expect(clickhouseError('again', ours)).toBe(ours);
  });
});

describe('the real client’s failures', () => {
  const servers: Array<Server | ReturnType<typeof createTcpServer>> = [];
  const stores: ClickHouseStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  const storeAt = (port: number, requestTimeoutMs = 30_000) => {
    const store = ClickHouseStore.connect({ url: `http://127.0.0.1:${port}`, database: 'db', username: 'default', password: '', requestTimeoutMs, quiet: true });
    stores.push(store);
    return store;
  };
  const listening = async <S extends Server | ReturnType<typeof createTcpServer>>(server: S): Promise<number> => {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const failureOf = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('the insert succeeded'), (error: unknown) => error);

  it('a 18.16 server refusing a row: rejected_row with the code of its response', async () => {
    const port = await listening(
      createServer((request, response) => {
        request.resume();
        request.on('end', () => {
          response.writeHead(500, { 'X-ClickHouse-Exception-Code': '27' });
          response.end('Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected " before: timeout: (at row 1)\n, e.what() = DB::Exception\n');
        });
      }),
    );
    const error = await failureOf(storeAt(port).insert('t', [{ a: 'timeout' }]));
    expect(error).toMatchObject({ kind: 'rejected_row', serverCode: '27', retriable: false });
  });

  it('a request timeout of the client (a server that never answers): unavailable', async () => {
    // Accepts the connection and never answers; the client gives up after its request_timeout.
    const port = await listening(createTcpServer((socket) => socket.on('data', () => {})));
    const error = await failureOf(storeAt(port, 200).insert('t', [{ a: 1 }]));
    expect((error as Error).cause).toMatchObject({ message: 'Timeout error.' });
    expect(error).toMatchObject({ kind: 'unavailable', retriable: true });
  });

  it('a refused connection: unavailable', async () => {
    const port = await listening(createTcpServer());
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const error = await failureOf(storeAt(port).insert('t', [{ a: 1 }]));
    expect(error).toMatchObject({ kind: 'unavailable', retriable: true });
  });
});
