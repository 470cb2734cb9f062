export { SKYTOOLS_TS_VERSION as PGQD_VERSION } from '@skytools/core';
export { PgqdDaemon } from './pgqd-daemon.js';
export { loadPgqdConfig, samplePgqdConfig, PGQD_SPEC, PGQD_INI } from './pgqd-config.js';
export type { PgqdConfig } from './pgqd-config.js';
export { DatabaseStats, pgqdMetrics, pgqdStatus, PGQD_STATUS_PAGE, type PgqdReach } from './pgqd-metrics.js';
