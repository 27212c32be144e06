/**
 * Detector cases by hand: DDM on a model without errors, and ADWIN on a
 * regression model's |error| at three label scales (raw ADWIN, whose bound
 * assumes [0, 1], against ScaledAdwin, which does not depend on the units).
 */
import { describe, expect, it } from 'vitest';
import { ADWIN, DDM, ScaledAdwin, type DriftDetector } from '../../core/drift/index.js';
import { seededRandom } from '../support/random.js';

function alarms(detector: DriftDetector, values: number[]): number[] {
  const out: number[] = [];
  values.forEach((x, i) => {
    detector.update(x);
    if (detector.driftDetected) out.push(i);
  });
  return out;
}

/** |error| of a regression model: normal errors of sd 1, then of sd `after` from example `at` on. */
function absoluteErrors(seed: number, length: number, at: number, after: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length }, (_, i) => {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.abs(z) * (i < at ? 1 : after);
  });
}

const SCALES = [0.01, 1, 100];

describe('DDM without errors', () => {
  it('a perfect model raises nothing (p_min = s_min = 0 and the levels are strict)', () => {
    expect(alarms(new DDM(), new Array(10_000).fill(0))).toEqual([]);
  });

  it('after 100 correct predictions the first error is a drift at once: p + s = 1/101 + sqrt((1/101)(100/101)/101) > 0 + 3·0 (as River and MOA)', () => {
    const ddm = new DDM();
    expect(alarms(ddm, [...new Array(100).fill(0), 1])).toEqual([100]);
  });
});

describe('ADWIN on a regression model\'s |error| at label scales 0.01, 1 and 100', () => {
  it('raw ADWIN depends on the scale: the same change is found within 200 examples at scale 1 and after more than 1,000 at 0.01', () => {
    const changing = absoluteErrors(1, 6000, 3000, 2);
    const first = (c: number) => alarms(new ADWIN(), changing.map((e) => e * c)).find((i) => i >= 3000)! - 3000;
    expect(first(1)).toBeLessThan(200);
    expect(first(0.01)).toBeGreaterThan(1000);
  });

  it('ScaledAdwin gives the same alarms at every scale, detects the change (sd 1 → 2 at 3,000) in each of 20 streams, and stays quiet on stationary ones', () => {
    const delays: number[] = [];
    let falseAlarms = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const changing = absoluteErrors(seed, 6000, 3000, 2);
      const atScale = SCALES.map((c) => alarms(new ScaledAdwin(), changing.map((e) => e * c)));
      expect(atScale[0], `seed ${seed}`).toEqual(atScale[1]);
      expect(atScale[2], `seed ${seed}`).toEqual(atScale[1]);
      const first = atScale[1]!.find((i) => i >= 3000);
      expect(first, `seed ${seed}: no alarm after the change`).toBeDefined();
      delays.push(first! - 3000);
      falseAlarms += atScale[1]!.filter((i) => i < 3000).length;
      const stationary = absoluteErrors(100 + seed, 20_000, Infinity, 1);
      const quiet = SCALES.map((c) => alarms(new ScaledAdwin(), stationary.map((e) => e * c)));
      expect(quiet[0]).toEqual(quiet[1]);
      expect(quiet[2]).toEqual(quiet[1]);
      falseAlarms += quiet[1]!.length;
    }
    delays.sort((a, b) => a - b);
    console.log(`ScaledAdwin: delays over 20 streams median ${delays[10]}, max ${delays[19]}; ${falseAlarms} false alarms in 20 × (3,000 + 20,000) stationary errors`);
    expect(delays[19]).toBeLessThanOrEqual(200);
    expect(falseAlarms).toBeLessThanOrEqual(1);
  });

  it('the scale is 4 × the reference\'s median (its largest value when the median is 0), values clipped to 1', () => {
    const detector = new ScaledAdwin({ referenceSize: 5 });
    for (const x of [5, 1, 40, 2, 3]) detector.update(x);
    expect(detector.level).toBe(12);
    expect(detector.count).toBe(5);
    expect(detector.estimation).toBeCloseTo((5 / 12 + 1 / 12 + 1 + 2 / 12 + 3 / 12) / 5, 15);
    const mostlyExact = new ScaledAdwin({ referenceSize: 5 });
    for (const x of [0, 0, 0, 2, 8]) mostlyExact.update(x);
    expect(mostlyExact.level).toBe(8);
    const perfect = new ScaledAdwin({ referenceSize: 3 });
    for (const x of [0, 0, 0, 0.5]) perfect.update(x);
    expect(perfect.level).toBe(0);
    expect(perfect.estimation).toBeCloseTo(1 / 4, 15);
  });
});
