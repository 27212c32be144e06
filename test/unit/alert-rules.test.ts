/**
 * The Prometheus alert rules, checked and unit-tested by promtool (the
 * binary only, no servers), and a guard that every alert has promtool cases
 * where it fires and where it stays quiet.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const RULES = 'dashboards/prometheus/rules/feedbackloop.rules.yml';
const TESTS = 'dashboards/prometheus/rules/feedbackloop.rules.test.yml';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }> | null;
}
interface RuleTestFile {
  rule_files: string[];
  evaluation_interval?: string;
  tests: Array<{ name?: string; alert_rule_test?: AlertRuleTest[]; promql_expr_test?: Array<{ expr: string }> }>;
}

function requirePromtool(): void {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `promtool is not on PATH (${probe.error?.message ?? `exit ${probe.status}`}): install Debian's prometheus package (apt-get install prometheus) or run \`bash scripts/stack/start.sh\`, which installs it`,
    );
  }
}

/** Runs promtool from the repository root; on a non-zero exit fails with its whole output. */
function promtool(...args: string[]): string {
  try {
    // promtool prints its verdicts on stdout and failures on stderr: keep both.
    return execFileSync('promtool', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as { status?: number | null; signal?: string | null; stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} exited ${e.status ?? e.signal ?? '?'}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

function allRules(): Rule[] {
  const doc = parse(readFileSync(join(ROOT, RULES), 'utf8')) as { groups: Array<{ rules: Rule[] }> };
  return doc.groups.flatMap((group) => group.rules);
}

function alertRules(): Rule[] {
  return allRules().filter((rule) => rule.alert !== undefined);
}

describe('Prometheus alert rules', () => {
  it('promtool check rules accepts the rules file', () => {
    requirePromtool();
    const out = promtool('check', 'rules', RULES);
    expect(out).toContain(`SUCCESS: ${allRules().length} rules found`);
  });

  it('promtool test rules passes every unit test', { timeout: 180_000 }, () => {
    requirePromtool();
    const out = promtool('test', 'rules', TESTS);
    expect(out).toMatch(/^\s*SUCCESS\s*$/m);
    expect(out).not.toContain('FAILED');
  });

  it('every alert has a firing and a quiet promtool case, and its for, severity, summary and description', () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThan(0);
    const tests = parse(readFileSync(join(ROOT, TESTS), 'utf8')) as RuleTestFile;
    expect(tests.rule_files).toEqual(['feedbackloop.rules.yml']);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    const firing = new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
    const quiet = new Set(cases.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => c.alertname));
    const names = rules.map((rule) => rule.alert!);

    expect(names.filter((name) => !firing.has(name)), 'alerts without a case where they fire').toEqual([]);
    expect(names.filter((name) => !quiet.has(name)), 'alerts without a case where they stay quiet').toEqual([]);
    expect([...firing, ...quiet].filter((name) => !names.includes(name)), 'cases of alerts that do not exist').toEqual([]);
    for (const rule of rules) {
      expect(rule.for, `${rule.alert}: for`).toMatch(/^\d+[smhd]$/);
      expect(rule.labels?.severity, `${rule.alert}: severity`).toMatch(/^(info|warning|critical)$/);
      expect(rule.annotations?.summary, `${rule.alert}: summary`).toBeTruthy();
      expect(rule.annotations?.description, `${rule.alert}: description`).toBeTruthy();
    }
    // Firing cases state the alert's labels and annotations exactly (promtool compares them).
    for (const c of cases.filter((c) => (c.exp_alerts ?? []).length > 0)) {
      for (const alert of c.exp_alerts!) {
        expect(alert.exp_labels?.severity, `${c.alertname} at ${c.eval_time}: exp_labels`).toBeTruthy();
        expect(Object.keys(alert.exp_annotations ?? {}).sort(), `${c.alertname} at ${c.eval_time}: exp_annotations`).toEqual(['description', 'summary']);
      }
    }
  });

  it('every recording rule is evaluated by a promtool case (promql_expr_test)', () => {
    const tests = parse(readFileSync(join(ROOT, TESTS), 'utf8')) as RuleTestFile;
    const exprs = tests.tests.flatMap((t) => t.promql_expr_test ?? []).map((c) => c.expr);
    const records = [...new Set(allRules().flatMap((rule) => (rule.record === undefined ? [] : [rule.record])))];
    expect(records.length).toBeGreaterThan(0);
    expect(records.filter((name) => !exprs.some((expr) => expr.startsWith(name))), 'recording rules without a case').toEqual([]);
  });

  it('alerts when a champion changes (promotion or rollback)', () => {
    expect(alertRules().map((rule) => rule.alert)).toContain('ChampionChanged');
  });
});
