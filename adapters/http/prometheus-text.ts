/**
 * A reader of the Prometheus text exposition format (version 0.0.4, what
 * /metrics serves): samples with their labels and values, and the declared
 * type of each metric family. prom-client writes this format but has no
 * reader. Pure; malformed lines are reported, not thrown.
 */

export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusText {
  samples: PrometheusSample[];
  /** Metric family -> declared type (`# TYPE name gauge`): a family can be declared with no samples yet. */
  types: Map<string, string>;
  /** Lines that are neither comments nor samples (1-based line number and text). */
  malformed: Array<{ line: number; text: string }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string): number | undefined {
  switch (text) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** The labels of `{a="x",b="y"}` starting at `text[0] === '{'`, and what follows the closing brace. */
function parseLabels(text: string): { labels: Record<string, string>; rest: string } | undefined {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (!name) return undefined;
    i += name.length;
    while (text[i] === ' ') i++;
    if (text[i] !== '=') return undefined;
    i++;
    while (text[i] === ' ') i++;
    if (text[i] !== '"') return undefined;
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) return undefined;
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const escaped = text[i++];
        value += escaped === 'n' ? '\n' : (escaped ?? '');
      } else {
        value += c;
      }
    }
    labels[name] = value;
  }
}

export function parsePrometheusText(text: string): PrometheusText {
  const out: PrometheusText = { samples: [], types: new Map(), malformed: [] };
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const type = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (type) out.types.set(type[1]!, type[2]!);
      return;
    }
    const name = NAME.exec(line)?.[0];
    let rest = name === undefined ? undefined : line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest !== undefined && rest.startsWith('{')) {
      const parsed = parseLabels(rest);
      rest = parsed?.rest;
      labels = parsed?.labels ?? {};
    }
    // The value, then an optional timestamp.
    const value = rest === undefined ? undefined : parseValue(rest.trim().split(/\s+/)[0] ?? '');
    if (name === undefined || value === undefined) {
      out.malformed.push({ line: index + 1, text: raw });
      return;
    }
    out.samples.push({ name, labels, value });
  });
  return out;
}
