#!/usr/bin/env node
// londisted --config londisted.yaml: hosts every job of jobs_dir. SIGHUP reloads the config and
// the jobs directory; options, pidfile and signals are those of every daemon (core's runDaemon).
// before anything that loads pg (see there)
import '@skytools/core/runtime-globals';
import { parseListenAddress, runDaemon, SKYTOOLS_TS_VERSION, StatusServer } from '@skytools/core';
import { loadSupervisorConfig, sampleSupervisorConfig, STATUS_PAGE, Supervisor, supervisorMetrics, supervisorStatus } from '../index.js';

await runDaemon({
  name: 'londisted',
  describe: 'Supervisor hosting many Londiste replication jobs in one process.',
  load: loadSupervisorConfig,
  sample: sampleSupervisorConfig,
  start: async (config, log, current) => {
    log.info(`londisted ${SKYTOOLS_TS_VERSION} starting, jobs from ${config.jobs_dir}`);
    const supervisor = new Supervisor(config, log);
    const server = new StatusServer({ metrics: () => supervisorMetrics(supervisor.jobStats()), status: () => supervisorStatus(supervisor.jobStats()), page: STATUS_PAGE }, log);
    const listen = (listenAt: string | undefined): Promise<void> => server.listen(listenAt === undefined ? undefined : parseListenAddress(listenAt));
    await listen(config.metrics_listen);
    await supervisor.start();
    return {
      reload: async () => {
        await listen(current().metrics_listen).catch((err: unknown) => log.error(`${err instanceof Error ? err.message : String(err)}; the listener stays as it was`));
        await supervisor.reload(current());
      },
      stop: async () => {
        await server.close();
        return supervisor.shutdown();
      },
    };
  },
});
