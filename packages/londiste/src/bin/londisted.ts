#!/usr/bin/env node
// londisted --config londisted.yaml: hosts every job of jobs_dir. SIGHUP reloads the config and
// the jobs directory; options, pidfile and signals are those of every daemon (core's runDaemon).
import { runDaemon, SKYTOOLS_TS_VERSION } from '@skytools/core';
import { loadSupervisorConfig, sampleSupervisorConfig, Supervisor } from '../index.js';

await runDaemon({
  name: 'londisted',
  describe: 'Supervisor hosting many Londiste replication jobs in one process.',
  load: loadSupervisorConfig,
  sample: sampleSupervisorConfig,
  start: async (config, log, current) => {
    log.info(`londisted ${SKYTOOLS_TS_VERSION} starting, jobs from ${config.jobs_dir}`);
    const supervisor = new Supervisor(config, log);
    await supervisor.start();
    return {
      reload: () => supervisor.reload(current()),
      stop: () => supervisor.shutdown(),
    };
  },
});
