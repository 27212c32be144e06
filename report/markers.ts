/**
 * The markers of the time charts: promotions, rollbacks and pins as lines,
 * the drift alarms of the inputs and the champion as ticks.
 */
import type { DriftRecord } from '../core/evaluate/rows.js';
import { isoMinute, num } from './format.js';
import type { ReportDecision } from './input.js';
import { short } from './series.js';
import type { Marker, MarkerKind } from './svg.js';

export const lower = (s: string) => s.toLowerCase();

export function decisionMarkers(model: string, decisions: ReportDecision[]): Marker[] {
  return decisions
    .filter((d) => lower(d.decision) !== 'hold')
    .map((d) => {
      const kind = (['promote', 'rollback', 'pin', 'unpin'].includes(lower(d.decision)) ? lower(d.decision) : 'pin') as MarkerKind;
      return {
        at: d.at,
        kind,
        label: `${lower(d.decision)} ${short(model, d.from_version)} → ${short(model, d.to_version)}`,
        title: `${lower(d.decision)} ${d.from_version} → ${d.to_version} at ${isoMinute(d.at)} UTC after ${d.n} examples: ${d.reason}`,
      };
    });
}

export const isChallengerAlarm = (d: DriftRecord) => d.role === 'challenger';

export function driftTitle(d: DriftRecord): string {
  const who = d.role === '*' ? 'input' : `${d.role} ${d.model_version}`;
  return `${d.statistic} on ${d.feature} (${who}) = ${num(d.value)} against threshold ${num(d.threshold)}, at ${isoMinute(d.at)} UTC, window ${d.window}, after ${d.n} examples`;
}

export function driftMarkers(drift: DriftRecord[]): Marker[] {
  return drift.filter((d) => d.detected && !isChallengerAlarm(d)).map((d) => ({ at: d.at, kind: 'drift' as const, label: '', title: driftTitle(d) }));
}
