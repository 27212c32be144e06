/**
 * Rolling.revertKey (a window made with keyOf: key hashes kept beside the
 * observations) reverts exactly what revertWhere by the same key reverts:
 * the same figures and the same window after any run of updates and
 * reverts, repeated keys included; and a restored window keeps its hashes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BinaryMetrics, Rolling, type BinaryFigures } from '../../core/metrics/index.js';
import { runs } from '../support/properties.js';

interface Obs {
  label: number;
  score: number;
  threshold: number;
  id: string;
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('update' as const), id: fc.nat(6), label: fc.constantFrom(0, 1), score: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('revert' as const), id: fc.nat(6) }),
  fc.record({ kind: fc.constant('restore' as const) }),
);

describe('Rolling.revertKey', () => {
  it('reverts what revertWhere by the key reverts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 200 }), (size, ops) => {
        const idOf = (o: Obs) => o.id;
        let keyed = new Rolling(new BinaryMetrics(), size, idOf);
        const plain = new Rolling<Obs, BinaryFigures, BinaryMetrics>(new BinaryMetrics(), size);
        for (const o of ops) {
          if (o.kind === 'update') {
            const obs = { label: o.label, score: o.score, threshold: 0.5, id: `e${o.id}` };
            keyed.update(obs);
            plain.update(obs);
          } else if (o.kind === 'revert') {
            expect(keyed.revertKey(`e${o.id}`)).toBe(plain.revertWhere((x) => x.id === `e${o.id}`));
          } else {
            keyed = Rolling.fromState(keyed.toState((m) => m.toState()), BinaryMetrics.fromState(keyed.toState((m) => m.toState()).metric), size, idOf);
          }
          expect(keyed.get()).toEqual(plain.get());
          expect(keyed.toState(() => null).window).toEqual(plain.toState(() => null).window);
        }
      }),
      runs(300),
    );
  });

  it('keeps the window a list model keeps: the last size updates, oldest first, a reverted one taken out in place', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 200 }), (size, ops) => {
        const window = new Rolling(new BinaryMetrics(), size, (o: Obs) => o.id);
        let model: Obs[] = [];
        for (const o of ops) {
          if (o.kind === 'update') {
            const obs = { label: o.label, score: o.score, threshold: 0.5, id: `e${o.id}` };
            window.update(obs);
            model = [...model, obs].slice(-size);
          } else if (o.kind === 'revert') {
            const at = model.findIndex((x) => x.id === `e${o.id}`);
            expect(window.revertKey(`e${o.id}`)).toBe(at >= 0);
            if (at >= 0) model = model.filter((_, i) => i !== at);
          }
          expect(window.toState(() => null).window).toEqual(model);
          expect(window.count()).toBe(model.length);
          expect(window.oldest()).toBe(model[0]);
          expect(window.newest()).toBe(model[model.length - 1]);
        }
      }),
      runs(300),
    );
  });

  it('reverts the oldest of equal keys, before and after a restore (fast-check seed 1632161968)', () => {
    const idOf = (o: Obs) => o.id;
    const window = new Rolling(new BinaryMetrics(), 2, idOf);
    for (const [id, score] of [['e0', 0], ['e6', 0], ['e6', 5e-324]] as const) window.update({ label: 0, score, threshold: 0.5, id });
    // The ring holds [second e6, first e6] (head 1): the oldest e6 is the one scored 0.
    const restored = Rolling.fromState(window.toState((m) => m.toState()), BinaryMetrics.fromState(window.toState((m) => m.toState()).metric), 2, idOf);
    expect(window.revertWhere((o) => o.id === 'e6')).toBe(true);
    expect(restored.revertKey('e6')).toBe(true);
    expect(window.toState(() => null).window.map((o) => o.score)).toEqual([5e-324]);
    expect(restored.toState(() => null).window.map((o) => o.score)).toEqual([5e-324]);
    expect(restored.get()).toEqual(window.get());
  });

  it('refuses revertKey on a window made without keyOf', () => {
    expect(() => new Rolling(new BinaryMetrics(), 3).revertKey('x')).toThrow(/keyOf/);
  });
});
