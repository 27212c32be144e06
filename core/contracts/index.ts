export { parseSnapshotVersion, snapshotVersion, versionIdentity, type SnapshotVersion } from './snapshot-version.js';
export { parseShadowKey, shadowKey, type ShadowKey, type ShadowRole } from './shadow-key.js';
