/**
 * The report in a real browser: `feedbackloop demo` (the built CLI,
 * dist/cli/main.js; `npm run build` first) writes DIR/report.html, headless
 * Chromium (Debian's `chromium` at /usr/bin/chromium, installed by
 * scripts/stack/start.sh, driven by playwright-core) opens it from file://
 * with every other request blocked and recorded, and the test asserts: no
 * request left the file, no console error or page error, every chart
 * rendered (a visible box; in a chart with figures, series paths with a
 * length), the decision and drift markers are there, nothing overflows the
 * page's width (the multi-class anomaly-type's class figures too); and it takes a full-page screenshot (a copy in
 * /tmp/report-screenshot.png for people to look at). Then the report of a
 * fixture with the figures of arrival records
 * (test/support/report-estimates.ts), as the browser draws it: estimates
 * dashed (faded where not trusted) and realised lines solid, the windows
 * whose labels are still arriving shaded, label coverage by predictions.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINARY_CHARTS, MULTICLASS_CHARTS, renderReport } from '../../report/index.js';
import { estimatesInput, FIRST_IMMATURE, HOURS, LABELLED } from '../support/report-estimates.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT_COPY = '/tmp/report-screenshot.png';
const MODELS = ['fraud-detector', 'churn-predictor'];

interface DomElement {
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { left: number; width: number; height: number };
  getTotalLength(): number;
  getPointAtLength(length: number): { x: number; y: number };
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement> & { length: number };
}
interface DomDocument {
  title: string;
  documentElement: { scrollWidth: number };
  querySelectorAll(selector: string): Iterable<DomElement>;
}

describe('report.html in headless Chromium', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'report-browser-')), 'demo');
  let browser: Browser | undefined;
  let stdout = '';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (bash scripts/stack/start.sh does, or: apt-get install -y chromium fonts-liberation)`);
    }
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    ({ stdout } = await promisify(execFile)(process.execPath, [CLI, 'demo', '--out', out, '--seed', '7'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('renders every chart from the file alone, with no console error', async () => {
    const file = join(out, 'report.html');
    expect(stdout).toContain(`report: ${file}`);
    const size = statSync(file).size;
    console.log(`report.html: ${(size / 1024).toFixed(0)} KiB`);
    expect(size).toBeLessThan(3 * 1024 * 1024);

    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const outside: string[] = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
      if (!outside.includes(request.url())) errors.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
    });
    const response = await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    expect(response === null || response.ok()).toBe(true);

    const seen = await page.evaluate(() => {
      // The few DOM shapes used here (the project's type check has no DOM library).
      const { document, innerWidth } = globalThis as unknown as { document: DomDocument; innerWidth: number };
      const charts = [...document.querySelectorAll('svg.chart')].map((svg) => {
        const box = svg.getBoundingClientRect();
        const paths = [...svg.querySelectorAll('path.series')].map((p) => ({ d: p.getAttribute('d') ?? '', length: p.getTotalLength() }));
        return {
          model: svg.dataset.model ?? '', metric: svg.dataset.metric ?? '', empty: svg.dataset.empty === 'true', width: box.width, height: box.height, paths,
          promotions: svg.querySelectorAll('g.marker.promote').length, drift: svg.querySelectorAll('line.marker.drift').length,
        };
      });
      const timelines = [...document.querySelectorAll('svg.timeline')].map((svg) => ({
        model: svg.dataset.model ?? '', height: svg.getBoundingClientRect().height, dots: svg.querySelectorAll('circle.marker').length,
      }));
      // The total window's ROC, PR and reliability charts: their curves, drawn.
      const curves = [...document.querySelectorAll('svg.xy')].map((svg) => ({
        model: svg.dataset.model ?? '', chart: svg.dataset.chart ?? '', width: svg.getBoundingClientRect().width,
        lengths: [...svg.querySelectorAll('path.curve')].map((p) => p.getTotalLength()),
      }));
      return { charts, timelines, curves, title: document.title, scrollWidth: document.documentElement.scrollWidth, innerWidth };
    });

    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    expect(seen.title).toBe('feedbackloop report');
    expect(seen.scrollWidth).toBeLessThanOrEqual(seen.innerWidth);
    // Both models: the five figures and label delay and coverage, each with figures.
    expect(seen.charts.length).toBeGreaterThanOrEqual(MODELS.length * (BINARY_CHARTS.length + 2));
    for (const model of MODELS) {
      const metrics = seen.charts.filter((c) => c.model === model).map((c) => c.metric);
      expect(metrics).toEqual(expect.arrayContaining([...BINARY_CHARTS, 'label_delay', 'label_coverage']));
    }
    for (const chart of seen.charts) {
      const name = `${chart.model} ${chart.metric}`;
      expect(chart.width, name).toBeGreaterThan(200);
      expect(chart.height, name).toBeGreaterThan(80);
      expect(chart.empty, name).toBe(false);
      const drawn = chart.paths.filter((p) => p.d.length > 0 && p.length > 0);
      expect(drawn.length, name).toBeGreaterThan(0);
    }
    // fraud-detector: champion and two challengers in every figure, its promotion and drift alarms marked.
    for (const chart of seen.charts.filter((c) => c.model === 'fraud-detector' && (BINARY_CHARTS as readonly string[]).includes(c.metric))) {
      expect(chart.paths.filter((p) => p.length > 0).length).toBeGreaterThanOrEqual(3 * 2);
      expect(chart.promotions).toBe(1);
      expect(chart.drift).toBeGreaterThan(0);
    }
    // Each model's ROC, PR and reliability charts: a drawn curve per series (fraud-detector: champion and two challengers).
    for (const model of MODELS) {
      for (const chart of ['roc', 'pr', 'reliability']) {
        const svg = seen.curves.find((c) => c.model === model && c.chart === chart);
        expect(svg?.width, `${model} ${chart}`).toBeGreaterThan(200);
        expect(svg!.lengths.filter((l) => l > 10).length, `${model} ${chart}`).toBe(model === 'fraud-detector' ? 3 : 2);
      }
    }
    // anomaly-type (multi-class): its class figures, champion and softmax challenger in each, its promotion marked; no ROC curve.
    expect(seen.charts.filter((c) => c.model === 'anomaly-type').map((c) => c.metric)).toEqual([...MULTICLASS_CHARTS, 'label_delay', 'label_coverage']);
    for (const chart of seen.charts.filter((c) => c.model === 'anomaly-type' && (MULTICLASS_CHARTS as readonly string[]).includes(c.metric))) {
      expect(chart.paths.filter((p) => p.length > 0).length, chart.metric).toBeGreaterThanOrEqual(2 * 2);
      expect(chart.promotions, chart.metric).toBe(1);
    }
    expect(seen.curves.filter((c) => c.model === 'anomaly-type')).toEqual([]);
    const timeline = seen.timelines.find((t) => t.model === 'fraud-detector');
    expect(timeline?.dots).toBeGreaterThan(10);
    expect(timeline?.height).toBeGreaterThan(100);

    const screenshot = join(out, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    const png = readFileSync(screenshot);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    console.log(`screenshot: ${width}×${height}, ${(png.length / 1024).toFixed(0)} KiB, a copy in ${SCREENSHOT_COPY}`);
    expect(width).toBe(1400);
    expect(height).toBeGreaterThan(3000);
    expect(png.length).toBeGreaterThan(200 * 1024);
    copyFileSync(screenshot, SCREENSHOT_COPY);
    await page.close();
  });

  it('draws estimates dashed (faded where not trusted), shades the windows still waiting for labels, and covers by predictions', async () => {
    const file = join(out, '..', 'estimates.html');
    writeFileSync(file, renderReport(estimatesInput()));
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const seen = await page.evaluate(() => {
      const window = globalThis as unknown as { document: DomDocument; getComputedStyle: (e: DomElement) => { strokeDasharray: string; opacity: string } };
      const { document } = window;
      const style = (p: DomElement) => ({ dash: window.getComputedStyle(p).strokeDasharray, opacity: Number(window.getComputedStyle(p).opacity), length: p.getTotalLength(), role: p.dataset.role ?? '' });
      const svgs = [...document.querySelectorAll('svg.chart')];
      const f1 = svgs.find((s) => s.dataset.metric === 'f1')!;
      const coverage = svgs.find((s) => s.dataset.metric === 'label_coverage')!;
      const plot = coverage.querySelector('rect.plot')!;
      const line = coverage.querySelector('path.series.line')!;
      const vertices = (line.getAttribute('d') ?? '').match(/[ML][\d.]+ [\d.]+/g)!.map((v) => Number(v.split(' ')[1]));
      return {
        realised: [...f1.querySelectorAll('path.series:not(.estimate)')].map(style),
        trusted: [...f1.querySelectorAll('path.series.estimate:not(.untrusted)')].map(style),
        untrusted: [...f1.querySelectorAll('path.series.estimate.untrusted')].map(style),
        shaded: svgs.map((s) => [...s.querySelectorAll('rect.immature')].map((r) => ({ left: r.getBoundingClientRect().left, width: r.getBoundingClientRect().width, start: Number(r.dataset.start) }))),
        plotLeft: f1.querySelector('rect.plot')!.getBoundingClientRect().left,
        plotWidth: f1.querySelector('rect.plot')!.getBoundingClientRect().width,
        plotY: Number(plot.getAttribute('y')), plotHeight: Number(plot.getAttribute('height')),
        coverage: vertices,
      };
    });
    expect(errors).toEqual([]);
    // Realised lines solid, estimates dashed; the untrusted part fainter.
    expect(seen.realised.length).toBe(4);
    for (const p of seen.realised) expect(p.dash).toBe('none');
    expect(seen.trusted.map((p) => p.role).sort()).toEqual(['challenger', 'challenger', 'champion', 'champion']);
    for (const p of [...seen.trusted, ...seen.untrusted]) {
      expect(p.dash).toBe('5px, 4px');
      expect(p.length).toBeGreaterThan(0);
    }
    expect(seen.untrusted.map((p) => p.role)).toEqual(['champion']);
    for (const p of seen.trusted) expect(p.opacity).toBe(0.85);
    expect(seen.untrusted[0]!.opacity).toBe(0.3);
    // Every chart shades the last six hours: one box per hour, side by side, the last quarter of the plot.
    for (const rects of seen.shaded) {
      expect(rects).toHaveLength(HOURS - FIRST_IMMATURE);
      const total = rects.reduce((sum, r) => sum + r.width, 0);
      expect(total).toBeGreaterThan(20);
      for (let i = 1; i < rects.length; i++) expect(rects[i]!.left).toBeCloseTo(rects[i - 1]!.left + rects[i - 1]!.width, 0);
    }
    const first = seen.shaded[0]![0]!;
    expect((first.left - seen.plotLeft) / seen.plotWidth).toBeCloseTo(FIRST_IMMATURE / 24, 2);
    // Coverage falls in the windows still waiting for labels: labelled / predictions, 0.9 … 0.05.
    const y = (v: number) => seen.plotY + (1 - v) * seen.plotHeight;
    expect(seen.coverage).toHaveLength(HOURS);
    seen.coverage.forEach((yy, h) => expect(yy).toBeCloseTo(y(LABELLED[h]! / 100), 0));
    await page.close();
  });
});
