/** The shadow-score keys: roles, and a multi-class model's `<key>#<class index>`. */
import { describe, expect, it } from 'vitest';
import { classShadowKey, parseClassShadowKey, parseShadowKey, shadowKey } from '../../core/contracts/index.js';

describe('shadow-score keys', () => {
  it('a previous champion and a challenger round-trip', () => {
    expect(parseShadowKey(shadowKey('previous', 'm/logreg@3'))).toEqual({ role: 'previous', version: 'm/logreg@3' });
    expect(parseShadowKey(shadowKey('challenger', 'm/logreg@3'))).toEqual({ role: 'challenger', version: 'm/logreg@3' });
  });

  it('a class index after the last #, a # in the version kept', () => {
    expect(parseClassShadowKey(classShadowKey('previous:m/softmax@2', 4))).toEqual({ key: 'previous:m/softmax@2', classIndex: 4 });
    expect(parseClassShadowKey(classShadowKey('gbm#v2', 0))).toEqual({ key: 'gbm#v2', classIndex: 0 });
    expect(parseClassShadowKey('gbm-v2')).toBeUndefined();
    expect(parseClassShadowKey('gbm#')).toBeUndefined();
    expect(parseClassShadowKey('gbm#x1')).toBeUndefined();
    expect(parseClassShadowKey('gbm#123456')).toBeUndefined();
  });
});
