/**
 * The grammars of core/contracts, with their edge cases: what each builder
 * writes, what each parser reads back, and what it answers for keys outside
 * the grammar.
 */
import { describe, expect, it } from 'vitest';
import {
  ALL_SEGMENTS, fairnessGapKey, parseSegmentKey, parseShadowKey, parseSnapshotVersion, segmentKey, shadowKey, snapshotVersion, versionIdentity,
} from '../../core/contracts/index.js';

describe('snapshot version <model>/<challenger>@<n>', () => {
  it('builds and parses a version', () => {
    expect(snapshotVersion('fraud', 'logreg', 3)).toBe('fraud/logreg@3');
    expect(parseSnapshotVersion('fraud/logreg@3')).toEqual({ model: 'fraud', challenger: 'logreg', sequence: 3 });
    expect(parseSnapshotVersion('fraud/logreg@0')).toEqual({ model: 'fraud', challenger: 'logreg', sequence: 0 });
  });

  it('splits at the last @ and the last / before it: a model may hold / and @, a challenger @', () => {
    expect(parseSnapshotVersion('team/fraud/logreg@12')).toEqual({ model: 'team/fraud', challenger: 'logreg', sequence: 12 });
    expect(parseSnapshotVersion('fr@ud/logreg@2')).toEqual({ model: 'fr@ud', challenger: 'logreg', sequence: 2 });
    expect(parseSnapshotVersion('fraud/log@reg@4')).toEqual({ model: 'fraud', challenger: 'log@reg', sequence: 4 });
    expect(parseSnapshotVersion('a/b@c/d@e@5')).toEqual({ model: 'a/b@c', challenger: 'd@e', sequence: 5 });
    expect(snapshotVersion('team/fr@ud', 'log@reg', 7)).toBe('team/fr@ud/log@reg@7');
    expect(parseSnapshotVersion('team/fr@ud/log@reg@7')).toEqual({ model: 'team/fr@ud', challenger: 'log@reg', sequence: 7 });
  });

  it('reads leading zeros and the largest safe integer', () => {
    expect(parseSnapshotVersion('fraud/logreg@007')).toEqual({ model: 'fraud', challenger: 'logreg', sequence: 7 });
    expect(parseSnapshotVersion('fraud/logreg@9007199254740991')).toEqual({ model: 'fraud', challenger: 'logreg', sequence: 9007199254740991 });
  });

  it('answers undefined for anything else: no @n, no digits, a sign, an exponent, a space, a huge n', () => {
    for (const version of [
      'fraud/logreg', 'fraud/logreg@', 'fraud/logreg@abc', 'fraud/logreg@3a', 'fraud/logreg@-1', 'fraud/logreg@+1',
      'fraud/logreg@1e3', 'fraud/logreg@1.5', 'fraud/logreg@ 5', 'fraud/logreg@0x1f', 'fraud/logreg@٣',
      'fraud/logreg@9007199254740992', 'fraud/logreg@99999999999999999999', 'v1', 'v1@abc', '',
    ]) {
      expect(parseSnapshotVersion(version), version).toBeUndefined();
    }
  });

  it('answers undefined for a missing / or an empty part', () => {
    for (const version of ['logreg@3', '@3', '/logreg@3', 'fraud/@3', '/@3', 'fraud@logreg/x@', 'fraud/logreg/@3']) {
      expect(parseSnapshotVersion(version), version).toBeUndefined();
    }
  });

  it('refuses to build what would not parse back', () => {
    expect(() => snapshotVersion('', 'logreg', 1)).toThrow(RangeError);
    expect(() => snapshotVersion('fraud', '', 1)).toThrow(RangeError);
    expect(() => snapshotVersion('fraud', 'a/b', 1)).toThrow('not a snapshot version: model "fraud", challenger "a/b", n 1');
    expect(() => snapshotVersion('fraud', 'logreg', -1)).toThrow(RangeError);
    expect(() => snapshotVersion('fraud', 'logreg', 1.5)).toThrow(RangeError);
    expect(() => snapshotVersion('fraud', 'logreg', Number.NaN)).toThrow(RangeError);
    expect(() => snapshotVersion('fraud', 'logreg', 2 ** 53)).toThrow(RangeError);
  });

  it('names an identity: a snapshot version without its @n, any other version itself', () => {
    expect(versionIdentity('fraud/logreg@12')).toBe('fraud/logreg');
    expect(versionIdentity('team/fraud/log@reg@1')).toBe('team/fraud/log@reg');
    expect(versionIdentity('v1')).toBe('v1');
    expect(versionIdentity('v1@abc')).toBe('v1@abc');
    expect(versionIdentity('logreg@3')).toBe('logreg@3');
    expect(versionIdentity('fraud/logreg@-1')).toBe('fraud/logreg@-1');
    expect(versionIdentity('')).toBe('');
  });
});

describe('shadow-score key', () => {
  it('builds the previous champion behind previous:, a challenger as its version', () => {
    expect(shadowKey('previous', 'v6')).toBe('previous:v6');
    expect(shadowKey('previous', 'fraud/logreg@3')).toBe('previous:fraud/logreg@3');
    expect(shadowKey('challenger', 'fraud/logreg@3')).toBe('fraud/logreg@3');
  });

  it('parses every key: previous: decides, the rest is a challenger version', () => {
    expect(parseShadowKey('previous:v6')).toEqual({ role: 'previous', version: 'v6' });
    expect(parseShadowKey('previous:fraud/logreg@3')).toEqual({ role: 'previous', version: 'fraud/logreg@3' });
    expect(parseShadowKey('previous:previous:v6')).toEqual({ role: 'previous', version: 'previous:v6' });
    expect(parseShadowKey('previous:')).toEqual({ role: 'previous', version: '' });
    expect(parseShadowKey('fraud/logreg@3')).toEqual({ role: 'challenger', version: 'fraud/logreg@3' });
    expect(parseShadowKey('previous')).toEqual({ role: 'challenger', version: 'previous' });
    expect(parseShadowKey('Previous:v6')).toEqual({ role: 'challenger', version: 'Previous:v6' });
    expect(parseShadowKey('')).toEqual({ role: 'challenger', version: '' });
  });

  it('reads a challenger of a model named previous:<...> as a previous champion (the prefix decides)', () => {
    expect(parseShadowKey(shadowKey('challenger', 'previous:m/logreg@1'))).toEqual({ role: 'previous', version: 'm/logreg@1' });
  });
});

describe('segment key', () => {
  it('builds all examples, one value of an attribute, and the gaps across an attribute', () => {
    expect(ALL_SEGMENTS).toBe('*');
    expect(segmentKey('region', 'eu')).toBe('region=eu');
    expect(fairnessGapKey('region')).toBe('region=*');
  });

  it('parses each form', () => {
    expect(parseSegmentKey('*')).toEqual({ kind: 'all' });
    expect(parseSegmentKey('region=eu')).toEqual({ kind: 'value', attribute: 'region', value: 'eu' });
    expect(parseSegmentKey('region=*')).toEqual({ kind: 'gap', attribute: 'region' });
  });

  it('splits at the first =: a value may hold =, an attribute may not', () => {
    expect(parseSegmentKey('formula=a=b')).toEqual({ kind: 'value', attribute: 'formula', value: 'a=b' });
    expect(parseSegmentKey(segmentKey('a=b', 'c'))).toEqual({ kind: 'value', attribute: 'a', value: 'b=c' });
    expect(parseSegmentKey(fairnessGapKey('a=b'))).toEqual({ kind: 'value', attribute: 'a', value: 'b=*' });
    expect(parseSegmentKey('a==*')).toEqual({ kind: 'value', attribute: 'a', value: '=*' });
  });

  it('reads a value * as the gap key of its attribute, and takes empty attributes and values', () => {
    expect(parseSegmentKey(segmentKey('region', '*'))).toEqual({ kind: 'gap', attribute: 'region' });
    expect(parseSegmentKey('region=')).toEqual({ kind: 'value', attribute: 'region', value: '' });
    expect(parseSegmentKey('=eu')).toEqual({ kind: 'value', attribute: '', value: 'eu' });
    expect(parseSegmentKey('=*')).toEqual({ kind: 'gap', attribute: '' });
    expect(parseSegmentKey('=')).toEqual({ kind: 'value', attribute: '', value: '' });
    expect(parseSegmentKey('region=**')).toEqual({ kind: 'value', attribute: 'region', value: '**' });
  });

  it('answers undefined for a key that is neither * nor holds a =', () => {
    for (const key of ['', '**', 'region', ' *', '* ', 'all']) expect(parseSegmentKey(key), key).toBeUndefined();
  });
});
