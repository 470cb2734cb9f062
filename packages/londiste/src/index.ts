export { SKYTOOLS_TS_VERSION as LONDISTE_VERSION } from '@skytools/core';
export { runAdminCli, COMMANDS } from './admin-cli.js';
export { loadJobConfig, sampleJobConfig, JOB_SPEC } from './job-config.js';
export type { JobConfig } from './job-config.js';
export { NodeAdmin } from './node-admin.js';
export { renderStatusTree, formatLag } from './status-tree.js';
