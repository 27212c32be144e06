export { parseSnapshotVersion, snapshotVersion, versionIdentity, type SnapshotVersion } from './snapshot-version.js';
