/**
 * `feedbackloop status`, what it scrapes: a process's /metrics (the joiners'
 * pending joins).
 */
import { parsePrometheusText } from '../../adapters/http/index.js';
import { errorMessage } from '../../core/errors.js';
import { splitUrlCredentials } from '../../core/redact.js';
import type { MetricsScrape } from './pending-joins.js';

/** The text of one /metrics endpoint (sent `authorization` when the endpoint asks credentials), or why it did not answer (3 s at most). */
export async function scrapeMetrics(url: string, authorization?: string): Promise<MetricsScrape> {
  try {
    // fetch refuses a URL with credentials: they go as basic auth instead (else the config's, when the endpoint asks).
    const { url: bare, username, password } = splitUrlCredentials(url);
    const fromUrl = username || password ? `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}` : undefined;
    const header = fromUrl ?? authorization;
    const response = await fetch(bare, { signal: AbortSignal.timeout(3000), ...(header === undefined ? {} : { headers: { authorization: header } }) });
    if (!response.ok) return { url, error: `HTTP ${response.status}` };
    return { url, text: parsePrometheusText(await response.text()) };
  } catch (error) {
    // fetch says "fetch failed"; the cause says why (ECONNREFUSED, a bad port, ...).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { url, error: cause?.code ?? cause?.message ?? errorMessage(error) };
  }
}
