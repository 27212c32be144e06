/**
 * The HTML report (core/report) on a small hand-built data set: one chart
 * per metric per model, one series per role and version, decision and
 * drift markers where they happened, escaping of everything from the data,
 * nothing fetched from outside, and no crash on a regression model or a
 * model without figures.
 */
import { describe, expect, it } from 'vitest';
import type { DriftRecord, FeedbackStat, MetricPoint } from '../../core/evaluate/index.js';
import { BINARY_CHARTS, chooseWindows, MAX_FINE_POINTS, REGRESSION_CHARTS, renderReport, type ReportDecision, type ReportInput } from '../../report/index.js';

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
  precision: (h: number) => 0.5 + shift + 0.01 * h, recall: (h: number) => (h === 3 ? null : 0.6 + shift), f1: () => 0.55 + shift, log_loss: () => 0.4 - shift, roc_auc: () => 0.8 + shift,
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
