/**
 * The public surface of @skytools/londiste. Internals that tests need are in ./internal.ts
 * (`@skytools/londiste/internal`), not here.
 */
export { SKYTOOLS_TS_VERSION as LONDISTE_VERSION } from '@skytools/core';
export { runAdminCli, COMMANDS, type CliEnv } from './admin-cli.js';
export { loadJobConfig, sampleJobConfig, JOB_SPEC, JOB_INI, type JobConfig } from './job-config.js';
export { NodeAdmin } from './node-admin.js';
export { renderStatusTree, renderStatusTreeCompact, formatLag } from './status-tree.js';
export type { NodeStatus } from './node-status.js';
export { Supervisor } from './supervisor/supervisor.js';
export { loadSupervisorConfig, sampleSupervisorConfig, SUPERVISOR_SPEC, type SupervisorConfig } from './supervisor/supervisor-config.js';
export { supervisorMetrics, supervisorStatus, type JobStatus } from './supervisor/supervisor-metrics.js';
export { STATUS_PAGE } from './supervisor/status-page.js';
export { JobStats, servedError, type NodeView, type TableView, type CopyProgress } from './worker/job-stats.js';
export { ReplicationWorker, type WorkerOptions } from './worker/replication-worker.js';
export { createCopyLimiter, type CopyLimiter } from './worker/copy-scheduler.js';
/** What a third-party table handler module exports (docs/handlers.md). */
export type { Handler, HandlerApply, HandlerApplyContext, HandlerArg, HandlerArgs } from './handlers/handler.js';
