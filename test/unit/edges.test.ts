import { Writable } from 'node:stream';
import { Agent, get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../adapters/logging/index.js';
import { startHttpEndpoint } from '../../adapters/http/index.js';
import { createPipelineMetrics } from '../../adapters/prometheus/index.js';
import { FeedbackloopError } from '../../core/errors.js';
import { retry } from '../../core/retry.js';
import { parseDuration, formatDuration } from '../../core/duration.js';

describe('logging', () => {
  it('redacts credentials wherever they sit in a logged object', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger('info', sink);
    logger.info({ clickhouse: { url: 'http://ch', password: 'hunter2' }, kafka: { sasl_password: 's3cret' }, headers: { authorization: 'Bearer t' } }, 'started');
    const line = JSON.parse(lines[0]!);
    expect(line.msg).toBe('started');
    expect(line.clickhouse).toEqual({ url: 'http://ch', password: '[redacted]' });
    expect(line.kafka.sasl_password).toBe('[redacted]');
    expect(line.headers.authorization).toBe('[redacted]');
    expect(lines[0]).not.toMatch(/hunter2|s3cret|Bearer/);
  });
});

describe('HTTP endpoint', () => {
  it('closes at once while a request is still open (a /readyz check that hangs: a broker or ClickHouse that does not answer)', async () => {
    const metrics = createPipelineMetrics({ defaultMetrics: false });
    const endpoint = await startHttpEndpoint({
      host: '127.0.0.1', port: 0, registry: metrics.registry,
      readiness: [{ name: 'hangs', check: () => new Promise<boolean>(() => {}) }],
    });
    const agent = new Agent({ keepAlive: true });
    const answered = new Promise<string>((resolve) => {
      get({ host: '127.0.0.1', port: endpoint.port, path: '/readyz', agent }, (response) => resolve(`status ${response.statusCode}`)).on('error', (error) => resolve(error.message));
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await endpoint.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await answered).toMatch(/socket hang up|ECONNRESET/);
    agent.destroy();
  });

  it('serves /metrics, /healthz and /readyz', async () => {
    const metrics = createPipelineMetrics({ defaultMetrics: false });
    metrics.observer.recordsIn('predictions', 3);
    let ready = false;
    const endpoint = await startHttpEndpoint({
      host: '127.0.0.1',
      port: 0,
      registry: metrics.registry,
      readiness: [{ name: 'clickhouse', check: async () => ready }],
    });
    try {
      const base = `http://127.0.0.1:${endpoint.port}`;
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toMatch(/feedbackloop_records_in_total\{topic="predictions"\} 3/);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ready: false, checks: [{ name: 'clickhouse', ok: false }] });
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await endpoint.close();
    }
  });
});

describe('retry', () => {
  const noSleep = async () => {};

  it('retries a retriable error with growing delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 4) throw new FeedbackloopError('down', { retriable: true });
        return 'ok';
      },
      { sleep: noSleep, initialDelayMs: 100, factor: 2, maxDelayMs: 300, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(result).toBe('ok');
    expect(delays).toEqual([100, 200, 300]);
  });

  it('throws a non-retriable error at once', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new FeedbackloopError('bad SQL');
      }, { sleep: noSleep }),
    ).rejects.toThrow('bad SQL');
    expect(calls).toBe(1);
  });

  it('gives up after the configured retries', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new FeedbackloopError('down', { retriable: true });
      }, { sleep: noSleep, retries: 2 }),
    ).rejects.toThrow('down');
    expect(calls).toBe(3);
  });
});

describe('durations', () => {
  it('parses and formats', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('7 days')).toBeUndefined();
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1_500)).toBe('1500ms');
  });
});
