export { startCluster, PgCluster, leftoverClusterDirs, runClientTool, processExists, CLUSTER_DIR_PREFIX } from './cluster.js';
export type { ClusterOptions, SettingValue } from './cluster.js';
export { availableInstalls, findInstall, testVersions, clientBinDir, repoRoot, DEFAULT_TEST_VERSIONS } from './versions.js';
export type { PgInstall } from './versions.js';
export { createSeedSchema, seedPgbenchScript } from './seed.js';
export type { SeedOptions } from './seed.js';
export { TcpProxy } from './tcp-proxy.js';
