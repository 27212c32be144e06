/**
 * The HTML report (core/report) on a small hand-built data set: one chart
 * per metric per model, one series per role and version, decision and
 * drift markers where they happened, escaping of everything from the data,
 * nothing fetched from outside, and no crash on a regression model or a
 * model without figures. With the figures of arrival records
 * (test/support/report-estimates.ts): each series' estimated line dashed
 * beside its realised one, faded where not trusted; the windows whose labels
 * are still arriving shaded; label coverage as labelled / predictions.
 */
import { describe, expect, it } from 'vitest';
import type { DriftRecord, FeedbackStat, MetricPoint } from '../../core/evaluate/index.js';
import { BINARY_CHARTS, chooseWindows, MAX_FINE_POINTS, REGRESSION_CHARTS, renderReport, type ReportDecision, type ReportInput } from '../../report/index.js';
import { ESTIMATED_F1, estimatesInput, EXPIRED, FIRST_IMMATURE, FIRST_TRUSTED, HOUR as H, HOURS, LABELLED, PENDING, T0 as S0 } from '../support/report-estimates.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2025, 5, 2);
const EVIL = '<script>alert("x")</script>&';

function points(model: string, role: string, version: string, metrics: Record<string, (hour: number) => number | null>, hours = 6): MetricPoint[] {
  const out: MetricPoint[] = [];
  const base = { model, model_version: version, role, segment: '*', count: 100 };
  for (const [metric, f] of Object.entries(metrics)) {
    for (let h = 0; h < hours; h++) out.push({ ...base, window: '1h', window_start: T0 + h * HOUR, window_end: T0 + (h + 1) * HOUR, metric, value: f(h) });
    out.push({ ...base, window: '1d', window_start: T0, window_end: T0 + DAY, metric, value: f(0) });
    out.push({ ...base, window: 'total', window_start: 0, window_end: T0 + hours * HOUR, metric, value: f(0) });
  }
  return out;
}

const binary = (shift: number) => ({
  count: () => 100, positives: () => 20, tp: () => 12, fp: () => 8,
  precision: (h: number) => 0.5 + shift + 0.01 * h, recall: (h: number) => (h === 3 ? null : 0.6 + shift), f1: () => 0.55 + shift, accuracy: () => 0.85 + shift, log_loss: () => 0.4 - shift, roc_auc: () => 0.8 + shift,
});

function segmentTotals(model: string, segment: string, values: Record<string, number>): MetricPoint[] {
  return Object.entries(values).map(([metric, value]) => ({
    model, model_version: 'v1', role: 'champion', segment, window: 'total', window_start: 0, window_end: T0 + DAY, metric, value, count: values.count ?? 0,
  }));
}

function drift(role: string, version: string, feature: string, at: number, detected = true): DriftRecord {
  return { model: 'fraud', model_version: version, role, feature, statistic: 'psi', value: 0.4, threshold: 0.2, detected, window: 'last_1000', window_start: T0, window_end: at, at, n: 500 };
}

const PROMOTED_AT = T0 + 4 * HOUR + 30 * 60_000;
const FEATURE_ALARM = T0 + 2 * HOUR;
const CHAMPION_ALARM = T0 + 5 * HOUR;
const CHALLENGER_ALARM = T0 + HOUR;

function input(): ReportInput {
  const decisions: ReportDecision[] = [
    { model: 'fraud', decision: 'promote', from_version: 'v1', to_version: 'fraud/logreg@3', at: PROMOTED_AT, n: 700, reason: `better on log loss ${EVIL}` },
  ];
  const feedback: FeedbackStat[] = [
    { model: 'fraud', day: T0, feedback_type: 'USER_CONFIRMED', source: EVIL, labels: 40, corrections: 0, overturned: 5, overturned_by_expert: 5 },
    { model: 'fraud', day: T0, feedback_type: 'EXPERT_REVIEW', source: 'expert-1', labels: 10, corrections: 5, overturned: 0, overturned_by_expert: 0 },
  ];
  return {
    summary: {
      predictions_read: 1000, feedback_read: 1100, labelled: 900, corrections: 5, duplicates_ignored: 3, uncertain: 2, unmatched: 1, expired_unlabelled: 4, pending_at_end: 6, dead_letters: 0,
      by_model: {
        fraud: { predictions: 800, labelled: 700, corrections: 5, expired_labelled: 600, expired_unlabelled: 4 },
        eta: { predictions: 100, labelled: 100, corrections: 0, expired_labelled: 0, expired_unlabelled: 0 },
        [EVIL]: { predictions: 100, labelled: 0, corrections: 0, expired_labelled: 0, expired_unlabelled: 0 },
      },
    },
    points: [
      ...points('fraud', 'champion', 'v1', { ...binary(0), label_delay_p50: () => 20 * 60_000, label_delay_p95: () => 8 * HOUR, label_coverage: () => 0.9 }),
      ...points('fraud', 'challenger', 'fraud/logreg', binary(0.1)),
      ...points('fraud', 'previous', 'v0', binary(-0.1)),
      ...segmentTotals('fraud', 'group=a', { count: 60, positives: 12, tp: 8, fp: 4, precision: 0.667, recall: 0.667, roc_auc: 0.81 }),
      ...segmentTotals('fraud', `group=${EVIL}`, { count: 40, positives: 8, tp: 4, fp: 4, precision: 0.5, recall: 0.5, roc_auc: 0.79 }),
      ...segmentTotals('fraud', 'group=*', { demographic_parity_difference: 0.05, equal_opportunity_difference: 0.167, smallest_group_count: 40, groups: 2 }),
      ...points('eta', 'champion', '2025.11', { count: () => 10, mae: (h) => 3 + h, rmse: () => 5, r2: () => 0.7 }),
    ],
    drift: [
      drift('*', '*', 'amount', FEATURE_ALARM),
      drift('champion', 'v1', 'score', CHAMPION_ALARM),
      drift('challenger', 'fraud/logreg', 'score', CHALLENGER_ALARM),
      drift('*', '*', 'age', T0 + 3 * HOUR, false),
    ],
    feedback,
    decisions,
  };
}

interface Svg {
  text: string;
  attr: (name: string) => string | undefined;
}

function charts(html: string, cls = 'chart'): Svg[] {
  return [...html.matchAll(new RegExp(`<svg class="${cls}"[^>]*>[\\s\\S]*?</svg>`, 'g'))].map((m) => {
    const open = /^<svg[^>]*>/.exec(m[0])![0];
    return { text: m[0], attr: (name) => new RegExp(` ${name}="([^"]*)"`).exec(open)?.[1] };
  });
}

/** The pixel x of a time in a chart, as the chart maps it (rounded to 0.1 like the SVG). */
function xOf(svg: Svg, at: number): number {
  const [t0, t1, left, right] = ['data-t0', 'data-t1', 'data-left', 'data-right'].map((a) => Number(svg.attr(a)));
  return Math.round((left! + ((at - t0!) / (t1! - t0!)) * (right! - left!)) * 10) / 10;
}

describe('the HTML report', () => {
  const html = renderReport(input());

  it('draws one chart per metric per model, binary or regression', () => {
    const all = charts(html);
    const of = (model: string) => all.filter((c) => c.attr('data-model') === model).map((c) => c.attr('data-metric'));
    expect(of('fraud')).toEqual([...BINARY_CHARTS, 'label_delay', 'label_coverage']);
    expect(of('eta')).toEqual([...REGRESSION_CHARTS, 'label_delay', 'label_coverage']);
    expect(html).toContain('No figures over time yet.');
  });

  it('draws a series per role and version, and per window size', () => {
    for (const metric of BINARY_CHARTS) {
      const chart = charts(html).find((c) => c.attr('data-model') === 'fraud' && c.attr('data-metric') === metric)!;
      expect(chart.attr('data-series')).toBe('3');
      for (const [role, version] of [['champion', 'v1'], ['challenger', 'fraud/logreg'], ['previous', 'v0']]) {
        for (const [window, style] of [['1h', 'line'], ['1d', 'steps']]) {
          const paths = [...chart.text.matchAll(new RegExp(`<path class="series ${style}" d="([^"]+)"[^>]*data-role="${role}" data-version="${version}" data-window="${window}"`, 'g'))];
          expect(paths, `${metric} ${role} ${version} ${window}`).toHaveLength(1);
        }
      }
    }
    // A null figure (recall in the 4th hour) breaks the hourly line: two runs, each starting with M.
    const recall = charts(html).find((c) => c.attr('data-model') === 'fraud' && c.attr('data-metric') === 'recall')!;
    const d = /<path class="series line" d="([^"]+)"[^>]*data-role="champion"/.exec(recall.text)![1]!;
    expect(d.match(/M/g)).toHaveLength(2);
    expect(d.match(/L/g)).toHaveLength(3);
  });

  it('marks the promotion and the drift alarms of the inputs and the champion at their time', () => {
    for (const chart of charts(html).filter((c) => c.attr('data-model') === 'fraud')) {
      const promote = new RegExp(`<g class="marker promote" data-at="${PROMOTED_AT}"><title>[^<]*</title><line x1="([\\d.]+)"`).exec(chart.text);
      expect(promote, chart.attr('data-metric')).not.toBeNull();
      expect(Number(promote![1])).toBeCloseTo(xOf(chart, PROMOTED_AT), 5);
      expect(chart.text).toContain('promote v1 → logreg@3');
      for (const at of [FEATURE_ALARM, CHAMPION_ALARM]) {
        const tick = new RegExp(`<line class="marker drift" data-at="${at}" x1="([\\d.]+)"`).exec(chart.text);
        expect(tick).not.toBeNull();
        expect(Number(tick![1])).toBeCloseTo(xOf(chart, at), 5);
      }
      // A challenger's alarms are not drawn on the metric charts; undetected tests never are.
      expect(chart.text).not.toContain(`data-at="${CHALLENGER_ALARM}"`);
      expect(chart.text).not.toContain(`data-at="${T0 + 3 * HOUR}"`);
    }
    const [timeline] = charts(html, 'timeline');
    expect(timeline!.attr('data-model')).toBe('fraud');
    expect(timeline!.text).toContain(`class="marker drift-challenger" data-at="${CHALLENGER_ALARM}"`);
    expect(timeline!.text).toContain(`class="marker drift" data-at="${FEATURE_ALARM}"`);
    expect(timeline!.text).toContain(`class="marker promote" data-at="${PROMOTED_AT}"`);
  });

  it('escapes every text from the data', () => {
    expect(html).not.toContain(EVIL);
    expect(html).not.toMatch(/<script/i);
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;';
    expect(html).toContain(`<h2>${escaped}`); // a model name
    expect(html).toContain(`better on log loss ${escaped}`); // a decision's reason
    expect(html).toContain(`<th scope="row">group=${escaped}</th>`); // a segment
    expect(html).toContain(`<th scope="row">${escaped}</th>`); // a feedback source
  });

  it('fetches nothing: no links, sources, imports or URLs', () => {
    for (const pattern of [/https?:\/\//i, /\bsrc\s*=/i, /\bhref\s*=\s*"(?!#)/i, /url\(/i, /@import/i, /<link\b/i, /<img\b/i, /<iframe\b/i]) {
      expect(html).not.toMatch(pattern);
    }
  });

  it('has the feedback, fairness and totals tables', () => {
    expect(html).toContain('Sources most often overturned');
    expect(html).toContain('Gaps across group');
    expect(html).toMatch(/<td class="n">0\.050<\/td><td class="n">0\.167<\/td><td class="n">40<\/td><td class="n">2<\/td>/);
    expect(html).toContain('<th scope="row">group=a</th><td class="n">60</td><td class="n">20.0%</td><td class="n">20.0%</td><td class="n">0.667</td>');
    expect(html).toContain('coverage 90.0%');
  });

  it('draws the finest window that is not too dense as a line and the coarsest as levels', () => {
    const hourly = (n: number) => Array.from({ length: n }, (_, h): MetricPoint => ({
      model: 'm', model_version: 'v', role: 'champion', segment: '*', window: '1h', window_start: T0 + h * HOUR, window_end: T0 + (h + 1) * HOUR, metric: 'roc_auc', value: 0.8, count: 1,
    }));
    const daily: MetricPoint = { ...hourly(1)[0]!, window: '1d', window_end: T0 + DAY };
    expect(chooseWindows([...hourly(24), daily])).toEqual([{ window: '1h', style: 'line' }, { window: '1d', style: 'steps' }]);
    expect(chooseWindows([...hourly(MAX_FINE_POINTS + 1), daily])).toEqual([{ window: '1d', style: 'line' }]);
    expect(chooseWindows([daily])).toEqual([{ window: '1d', style: 'line' }]);
    expect(chooseWindows([])).toEqual([]);
  });

  it('renders an empty input', () => {
    const empty = renderReport({
      summary: { predictions_read: 0, feedback_read: 0, labelled: 0, corrections: 0, duplicates_ignored: 0, uncertain: 0, unmatched: 0, expired_unlabelled: 0, pending_at_end: 0, dead_letters: 0, by_model: {} },
      points: [], drift: [], feedback: [], decisions: [],
    });
    expect(empty).toContain('0 models');
    expect(empty).toMatch(/^<!DOCTYPE html>/);
  });
});

/** The (x, y) pairs of a path's d (M/L commands only). */
function vertices(d: string): Array<[number, number]> {
  return [...d.matchAll(/[ML]([\d.-]+) ([\d.-]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

/** The pixel y of a value in a chart, from two of its y-axis grid lines and their labels (a percentage or a number). */
function yOf(svg: Svg, value: number): number {
  const ticks = [...svg.text.matchAll(/<line class="grid" x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)" y2="[\d.]+"\/><text class="tick"[^>]*>([\d.]+)(%?)<\/text>/g)]
    .map((m) => [Number(m[1]), Number(m[2]) / (m[3] ? 100 : 1)] as const);
  const [[y0, v0], [y1, v1]] = [ticks[0]!, ticks[ticks.length - 1]!];
  return Math.round((y0 + ((value - v0) / (v1 - v0)) * (y1 - y0)) * 10) / 10;
}

describe('the HTML report with estimated figures and label arrival', () => {
  const html = renderReport(estimatesInput());
  const chart = (metric: string) => charts(html).find((c) => c.attr('data-model') === 'scored' && c.attr('data-metric') === metric)!;
  const paths = (svg: Svg, cls: string, role: string, window = '1h') =>
    [...svg.text.matchAll(new RegExp(`<path class="${cls}" d="([^"]+)"[^>]*data-role="${role}"[^>]*data-window="${window}"><title>([^<]*)</title>`, 'g'))].map((m) => ({ d: m[1]!, title: m[2]! }));
  const mid = (h: number) => S0 + h * H + H / 2;

  it("draws each series' estimate dashed beside its realised line, faded where it is not trusted", () => {
    const f1 = chart('f1');
    // The realised lines stay solid: one plain path per role and window.
    expect(paths(f1, 'series line', 'champion')).toHaveLength(1);
    expect(paths(f1, 'series line', 'challenger')).toHaveLength(1);
    // The champion's estimate: trusted from hour 4 (a dashed path through hours 4..23) …
    const [trusted] = paths(f1, 'series line estimate', 'champion');
    expect(trusted!.title).toBe('champion v1, estimated (1h)');
    expect(vertices(trusted!.d).map(([x]) => x)).toEqual(Array.from({ length: HOURS - FIRST_TRUSTED }, (_, i) => xOf(f1, mid(FIRST_TRUSTED + i))));
    expect(trusted!.d.match(/M/g)).toHaveLength(1);
    // … and faded through hours 0..4 (the segment into the first trusted hour touches an untrusted one).
    const [faded] = paths(f1, 'series line estimate untrusted', 'champion');
    expect(faded!.title).toBe('champion v1, estimated (1h), faded: estimate not trusted (scores not calibrated on matured labels)');
    expect(vertices(faded!.d).map(([x]) => x)).toEqual([0, 1, 2, 3, 4].map((h) => xOf(f1, mid(h))));
    // Its values: the estimate (0.6 + 0.005 h), not the realised figure (0.65).
    for (const [h, [, y]] of vertices(faded!.d).entries()) expect(Math.abs(y - yOf(f1, ESTIMATED_F1(h)))).toBeLessThan(0.11);
    for (const [i, [, y]] of vertices(trusted!.d).entries()) expect(Math.abs(y - yOf(f1, ESTIMATED_F1(FIRST_TRUSTED + i)))).toBeLessThan(0.11);
    // The day's estimate as a dashed level, trusted; the challenger's estimate trusted throughout.
    expect(paths(f1, 'series steps estimate', 'champion', '1d')).toHaveLength(1);
    expect(paths(f1, 'series line estimate', 'challenger')).toHaveLength(1);
    expect(paths(f1, 'series line estimate untrusted', 'challenger')).toHaveLength(0);
    // Estimates are drawn without dots; the realised daily levels keep theirs.
    expect(f1.text.match(/<circle class="point"/g)).toHaveLength(2);
    expect(f1.attr('data-series')).toBe('4');
    // Log loss has no estimate.
    expect(chart('log_loss').text).not.toContain('estimate');
    // Dashed and faded in the style sheet, and said so in the legend.
    expect(html).toContain('svg path.series.estimate { stroke-dasharray: 5 4;');
    expect(html).toContain('svg path.series.estimate.untrusted { opacity: 0.3; }');
    expect(html).toContain('estimated from the scores of every prediction, before labels (CBPE)');
    expect(html).toContain('estimate not trusted: scores not calibrated on the matured labels');
  });

  it('shades the windows whose labels are still arriving, in every chart, with the pending count', () => {
    for (const metric of [...BINARY_CHARTS, 'label_delay', 'label_coverage']) {
      const svg = chart(metric);
      const rects = [...svg.text.matchAll(/<rect class="immature" data-start="(\d+)" data-end="(\d+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g)];
      expect(rects.map((r) => Number(r[1])), metric).toEqual(Array.from({ length: HOURS - FIRST_IMMATURE }, (_, i) => S0 + (FIRST_IMMATURE + i) * H));
      for (const r of rects) {
        expect(Number(r[3])).toBeCloseTo(xOf(svg, Number(r[1])), 5);
        expect(Number(r[3]) + Number(r[4])).toBeCloseTo(xOf(svg, Number(r[2])), 0);
      }
      expect(rects[0]![5]).toBe(`labels still arriving: ${PENDING[FIRST_IMMATURE]} of 100 predictions of the 1h window from 2025-06-02 18:00 UTC have no label or expiry yet; its figures may still change`);
      expect(rects[5]![5]).toContain('labels still arriving: 95 of 100 predictions');
      // The six hours are wide enough for the note.
      expect(svg.text).toContain('<text class="immature-note"');
      expect(svg.text).toContain('>labels still arriving</text>');
    }
    expect(html).toContain('labels still arriving (window not matured: its figures may change)');
    expect(PENDING).toEqual([...Array.from({ length: 18 }, () => 0), 20, 30, 40, 60, 80, 95]);
  });

  it('computes label coverage as labelled / predictions, low in the windows whose labels are still arriving', () => {
    const coverage = chart('label_coverage');
    expect(coverage.text).toContain('>labelled / predictions</text>');
    const [line] = paths(coverage, 'series line', 'champion');
    const expected = LABELLED.map((l) => l / 100);
    expect(expected.slice(FIRST_IMMATURE)).toEqual([0.8, 0.7, 0.6, 0.4, 0.2, 0.05]);
    expect(vertices(line!.d)).toEqual(expected.map((v, h) => [xOf(coverage, mid(h)), yOf(coverage, v)]));
    // Not labelled / (labelled + expired), which is 1 in those hours.
    expect(LABELLED[HOURS - 1]! / (LABELLED[HOURS - 1]! + EXPIRED[HOURS - 1]!)).toBe(1);
    // The day: 1895 of 2400 (79.0%, where labelled / (labelled + expired) says 91.3%).
    expect(coverage.text).toContain('<title>label coverage v1, 1d from 2025-06-02 00:00: 79.0% (n 2400)</title>');
    expect(html).toContain('coverage 79.0% (1,895 labelled of 2,400 predictions, 180 expired unlabelled, 325 pending)');
    expect(html).toContain('Label coverage (share of the predictions that got a label; low in recent windows while labels still arrive)');
    expect(ESTIMATED_F1(FIRST_TRUSTED)).toBeCloseTo(0.62, 12);
  });

  it('draws none of it without the new figures', () => {
    const old = renderReport(input());
    expect(old).not.toContain('class="series line estimate');
    expect(old).not.toContain('<rect class="immature"');
    expect(old).not.toContain('before labels (CBPE)');
    expect(old).toContain('>labelled / (labelled + expired)</text>');
  });
});
