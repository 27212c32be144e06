/**
 * Text for the report: HTML escaping, numbers, durations and UTC times.
 * Pure functions.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and (double- or single-quoted) attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** "2025-06-02 06:00" (UTC). */
export function isoMinute(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** "2025-06-02" (UTC). */
export const isoDay = (t: number) => isoMinute(t).slice(0, 10);

/** "Jun 2" (UTC). */
export function monthDay(t: number): string {
  const d = new Date(t);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
}

/** "06:00" (UTC). */
export function hourMinute(t: number): string {
  const d = new Date(t);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** A figure with `digits` decimals; "–" for null (a zero denominator) or a missing figure. */
export function num(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** A share as a percentage: 0.9234 -> "92.3%". */
export function pct(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : `${(100 * value).toFixed(digits)}%`;
}

/** An integer count with thousands separators: 18342 -> "18,342". */
export function int(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : Math.round(value).toLocaleString('en-US');
}

/** Milliseconds in the largest unit that keeps the figure readable: "45 s", "27.3 min", "8 h", "2.1 d". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const one = (x: number) => x.toFixed(1).replace(/\.0$/, '');
  if (ms < MINUTE) return `${(ms / 1000).toFixed(0)} s`;
  if (ms < HOUR) return `${one(ms / MINUTE)} min`;
  if (ms < DAY) return `${one(ms / HOUR)} h`;
  return `${one(ms / DAY)} d`;
}
