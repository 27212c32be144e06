export { parseSnapshotVersion, snapshotVersion, versionIdentity, type SnapshotVersion } from './snapshot-version.js';
export { classShadowKey, parseClassShadowKey, parseShadowKey, shadowKey, type ShadowKey, type ShadowRole } from './shadow-key.js';
export { ALL_SEGMENTS, fairnessGapKey, parseSegmentKey, segmentKey, type SegmentKey } from './segment-key.js';
export { ARRIVAL_ID_SUFFIX, arrivalExampleId, exampleId } from './example-id.js';
export { isLabelled, type LabelFields } from './labelled.js';
