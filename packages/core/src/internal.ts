/** Internals of @skytools/core that tests exercise directly (`@skytools/core/internal`); not a public API. */
export { expandManifest, loadShippedSchema, shippedVersion, schemaDir, compareVersions, SCHEMAS } from './schema-files.js';
export { INSTALL_LOCK_KEY, withPrerequisites } from './schema-installer.js';
export { parseKeyValueConnstr, parseUrlConnstr } from './connstr.js';
export { clientConfig } from './db.js';
export { describeStatement } from './exec-cmd.js';
export { CopyFrameScanner, type CopyFrameSink } from './copy-frame-scanner.js';
