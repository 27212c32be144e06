/** The promoter's decisions of a model, in time order. */
import { esc, int, isoMinute } from '../format.js';
import { table } from '../html.js';
import type { ModelData } from '../input.js';
import { lower } from '../markers.js';

export function decisionsTable(m: ModelData): string {
  if (m.decisions.length === 0) return '<p class="none">No promotion, rollback or pin.</p>';
  const rows = [...m.decisions]
    .sort((a, b) => a.at - b.at)
    .map((d) => [esc(isoMinute(d.at)), `<span class="decision ${esc(lower(d.decision))}">${esc(lower(d.decision))}</span>`, `${esc(d.from_version)} → ${esc(d.to_version)}`, int(d.n), `<span class="reason">${esc(d.reason)}</span>`]);
  return table(['at (UTC)', 'decision', 'from → to', 'examples', 'why'], rows, 'decisions', [1, 2, 4]);
}
