/**
 * Feature importance of the challengers: for each challenger, its latest
 * snapshot's largest standardised coefficients (core/models/importance.ts:
 * the weight on a feature scaled by its standard deviation, so features in
 * different units compare), the top 10 by absolute value, each with how it
 * moved over the snapshots the replay kept (a sparkline, evenly spread over
 * the run).
 */
import { esc, int, num } from '../format.js';
import type { ModelData, ReportSnapshot } from '../input.js';
import { sparkline } from '../plots.js';

/** Features shown per challenger. */
export const TOP_FEATURES = 10;

function challengerTable(model: string, challenger: string, snapshots: ReportSnapshot[], multiclass: boolean): string {
  const latest = snapshots[snapshots.length - 1]!;
  const head = `<h4>${esc(challenger)} <span class="meta">${esc(latest.algorithm)} · latest snapshot ${esc(latest.version)} after ${int(latest.training_count)} examples · ${int(snapshots.length)} snapshots drawn</span></h4>`;
  if (multiclass && (latest.importance === null || latest.importance.length === 0)) {
    return `${head}<p class="none">Standardised coefficients are computed for binary and regression challengers only (a multi-class one has a weight per class and feature).</p>`;
  }
  if (latest.importance === null || latest.importance.length === 0) {
    return `${head}<p class="none">No standardised coefficients: this model has no numeric feature through a standard scaler, or no linear weights.</p>`;
  }
  const rows = latest.importance.slice(0, TOP_FEATURES).map((imp) => {
    const history = snapshots.map((s) => s.importance?.find((i) => i.feature === imp.feature)?.coefficient).filter((v): v is number => v !== undefined);
    const first = history[0];
    const title = `${imp.feature}: ${num(first)} at the first snapshot drawn, ${num(imp.coefficient)} at the latest`;
    return `<tr data-feature="${esc(imp.feature)}" data-coefficient="${imp.coefficient}"><th scope="row">${esc(imp.feature)}</th><td class="n">${num(imp.coefficient)}</td><td class="n">${num(Math.abs(imp.coefficient))}</td>` +
      `<td>${sparkline({ model, challenger, feature: imp.feature }, history, title)}</td></tr>`;
  });
  return `${head}<table class="importance" data-challenger="${esc(challenger)}"><thead><tr><th>feature</th><th class="n">coefficient per std</th><th class="n">|coefficient|</th><th>over the snapshots</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function importanceSection(m: ModelData): string {
  const byChallenger = new Map<string, ReportSnapshot[]>();
  for (const s of m.snapshots) {
    if (!byChallenger.has(s.challenger)) byChallenger.set(s.challenger, []);
    byChallenger.get(s.challenger)!.push(s);
  }
  if (byChallenger.size === 0) return '<p class="none">No challenger snapshot published.</p>';
  const names = [...byChallenger.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return (
    `<p>Standardised coefficients: a linear challenger's weight on each numeric feature as its standard scaler sees it, (x − mean) / std, i.e. the raw coefficient times the feature's standard deviation: ` +
    `the change of the raw score (a logit for a classifier) for one standard deviation. The ${TOP_FEATURES} largest in absolute value, and how each moved over the run.</p>` +
    names.map((name) => challengerTable(m.model, name, byChallenger.get(name)!, m.kind === 'multiclass')).join('')
  );
}
