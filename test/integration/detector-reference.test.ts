/**
 * The concept-drift detectors against River 0.26 (bench/reference/detector_reference.py)
 * on seeded error streams: the same alarm indices (and DDM's warnings), exactly.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADWIN, DDM, PageHinkley, type DriftDetector } from '../../core/drift/index.js';
import { seededRandom } from '../support/random.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface Case {
  detector: 'ddm' | 'adwin' | 'page_hinkley';
  /** River's parameters. */
  options: Record<string, number | string>;
  values: number[];
}

/** 0/1 errors at `rate(i)`, from a seeded generator. */
function errors(seed: number, length: number, rate: (i: number) => number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length }, (_, i) => (random() < rate(i) ? 1 : 0));
}

function river(streams: Record<string, Case>): Record<string, { alarms: number[]; warnings: number[] }> {
  const out = execFileSync(join(ROOT, '.venv/bin/python'), [join(ROOT, 'bench/reference/detector_reference.py')], {
    input: JSON.stringify({ streams }),
    maxBuffer: 256 << 20,
  });
  return JSON.parse(out.toString('utf8'));
}

function ours(detector: DriftDetector, values: number[]): { alarms: number[]; warnings: number[] } {
  const alarms: number[] = [];
  const warnings: number[] = [];
  values.forEach((x, i) => {
    detector.update(x);
    if (detector.driftDetected) alarms.push(i);
    if (detector.warningDetected) warnings.push(i);
  });
  return { alarms, warnings };
}

/** Runs every case through ours and River's; returns the alarm counts, ours having equalled River's. */
function expectSameAlarms(cases: Record<string, Case>, make: (c: Case) => DriftDetector): number {
  const reference = river(cases);
  let alarms = 0;
  for (const [name, c] of Object.entries(cases)) {
    const got = ours(make(c), c.values);
    expect(got.alarms, `${name}: alarm indices`).toEqual(reference[name]!.alarms);
    expect(got.warnings, `${name}: warning indices`).toEqual(reference[name]!.warnings);
    alarms += got.alarms.length;
  }
  return alarms;
}

function seeds(count: number, make: (seed: number) => Case): Record<string, Case> {
  return Object.fromEntries(Array.from({ length: count }, (_, k) => [`seed ${k + 1}`, make(k + 1)]));
}

describe('concept-drift detectors against River', () => {
  beforeAll(() => {
    execFileSync('bash', [join(ROOT, 'scripts/python-env.sh')], { stdio: 'inherit' });
  }, 600_000);

  const ddm = (c: Case) => new DDM();

  it('DDM: a perfect model raises nothing, as River', () => {
    const alarms = expectSameAlarms({ perfect: { detector: 'ddm', options: {}, values: new Array(5000).fill(0) } }, ddm);
    expect(alarms).toBe(0);
  });

  it('DDM: 20 streams of 5,000 at a 0.5% error rate, the same alarms as River', () => {
    const alarms = expectSameAlarms(seeds(20, (seed) => ({ detector: 'ddm', options: {}, values: errors(seed, 5000, () => 0.005) })), ddm);
    console.log(`DDM at 0.5% error: ${alarms} alarms in 20 streams of 5,000 (River's too)`);
    expect(alarms).toBeGreaterThan(0);
  });

  it('DDM: 20 streams whose error rate goes from 5% to 20% at example 2,500, the same alarms and warnings as River', () => {
    const cases = seeds(20, (seed) => ({ detector: 'ddm', options: {}, values: errors(100 + seed, 5000, (i) => (i < 2500 ? 0.05 : 0.2)) }));
    expectSameAlarms(cases, ddm);
    const detected = Object.values(cases).filter((c) => ours(new DDM(), c.values).alarms.some((i) => i >= 2500)).length;
    expect(detected).toBe(20);
  });

  it('ADWIN: stationary, one change and two changes on 0/1 error streams, at clock 32 and 1, the same alarms as River', () => {
    const cases: Record<string, Case> = {};
    for (let seed = 1; seed <= 10; seed++) {
      cases[`stationary ${seed}`] = { detector: 'adwin', options: {}, values: errors(200 + seed, 10_000, () => 0.2) };
      cases[`change ${seed}`] = { detector: 'adwin', options: {}, values: errors(300 + seed, 6000, (i) => (i < 3000 ? 0.2 : 0.6)) };
      cases[`two changes, clock 1 ${seed}`] = {
        detector: 'adwin', options: { clock: 1, delta: 0.01 }, values: errors(400 + seed, 6000, (i) => (i < 2000 ? 0.1 : i < 4000 ? 0.4 : 0.15)),
      };
    }
    const alarms = expectSameAlarms(cases, (c) => new ADWIN({ clock: Number(c.options.clock ?? 32), delta: Number(c.options.delta ?? 0.002) }));
    expect(alarms).toBeGreaterThanOrEqual(30);
  });

  it('ADWIN: one change gives one alarm (the window starts anew after it)', () => {
    const cases = seeds(20, (seed) => ({ detector: 'adwin', options: {}, values: errors(500 + seed, 4000, (i) => (i < 2000 ? 0.2 : 0.6)) }));
    expectSameAlarms(cases, () => new ADWIN());
    for (const c of Object.values(cases)) {
      const after = ours(new ADWIN(), c.values).alarms.filter((i) => i >= 2000);
      expect(after.length).toBeGreaterThanOrEqual(1);
      expect(after.length).toBeLessThanOrEqual(1);
    }
  });

  it('Page-Hinkley (a rise: River\'s mode "up"): 0/1 and real-valued streams, stationary and with a rise, the same alarms as River', () => {
    const cases: Record<string, Case> = {};
    for (let seed = 1; seed <= 10; seed++) {
      cases[`errors ${seed}`] = { detector: 'page_hinkley', options: { mode: 'up' }, values: errors(600 + seed, 10_000, (i) => (i < 5000 ? 0.2 : 0.6)) };
      const random = seededRandom(700 + seed);
      cases[`losses ${seed}`] = { detector: 'page_hinkley', options: { mode: 'up' }, values: Array.from({ length: 10_000 }, (_, i) => -Math.log(1 - random()) * (i < 6000 ? 0.4 : 0.9)) };
    }
    const alarms = expectSameAlarms(cases, () => new PageHinkley());
    expect(alarms).toBeGreaterThanOrEqual(20);
  });
});
