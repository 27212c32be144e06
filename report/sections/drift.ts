/** The drift alarms of a model on a timeline, a row per stream and statistic. */
import type { DriftRecord } from '../../core/evaluate/rows.js';
import { esc, int, isoMinute } from '../format.js';
import type { ModelData } from '../input.js';
import { driftTitle, isChallengerAlarm } from '../markers.js';
import { ROLE_ORDER, short } from '../series.js';
import { extent, timeline, type Marker, type TimelineRow } from '../svg.js';

/** The timeline's rows: one per stream (inputs, then by role and version), feature and statistic, each with its alarms. */
function alarmRows(model: string, alarms: DriftRecord[]): Array<TimelineRow & { order: string }> {
  const rows = new Map<string, TimelineRow & { order: string }>();
  for (const d of alarms) {
    const rank = d.role === '*' ? 0 : (ROLE_ORDER[d.role] ?? 3) + 1;
    const who = d.role === '*' ? 'input' : d.role === 'challenger' ? short(model, d.model_version) : `${d.role} ${d.model_version}`;
    const key = `${rank}\u0000${d.model_version}\u0000${d.feature}\u0000${d.statistic}`;
    if (!rows.has(key)) {
      rows.set(key, {
        order: key,
        label: `${who} · ${d.feature} · ${d.statistic}`,
        kind: isChallengerAlarm(d) ? 'drift-challenger' : 'drift',
        attrs: { role: d.role, version: d.model_version, feature: d.feature, statistic: d.statistic },
        events: [],
      });
    }
    rows.get(key)!.events.push({ at: d.at, title: driftTitle(d) });
  }
  return [...rows.values()].sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
}

export function driftSection(m: ModelData, domain: [number, number], decisions: Marker[]): string {
  const alarms = m.drift.filter((d) => d.detected);
  const tests = m.drift.length;
  if (alarms.length === 0) return `<p class="none">No drift alarm (${int(tests)} tests and detector checks recorded).</p>`;
  const ordered = alarmRows(m.model, alarms);
  const main = alarms.filter((d) => !isChallengerAlarm(d));
  const challengers = alarms.length - main.length;
  const first = extent(main.map((d) => d.at))?.[0] ?? null;
  const text =
    `<p>${int(main.length)} alarm${main.length === 1 ? '' : 's'} on the inputs and the champion${first === null ? '' : `, the first at ${esc(isoMinute(first))} UTC`}` +
    `${challengers ? `; ${int(challengers)} on challengers (grey: a learning model's scores and errors move by design)` : ''}. ${int(tests)} tests and detector checks recorded. Hover a dot for the statistic and its threshold.</p>`;
  return text + timeline({ model: m.model }, `${m.model}: drift alarms`, domain, ordered, decisions);
}
