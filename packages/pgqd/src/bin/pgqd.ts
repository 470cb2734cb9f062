#!/usr/bin/env node
// pgqd pgqd.yaml (or upstream's pgqd.ini): the PgQ ticker daemon, in the foreground (systemd style). Options,
// pidfile and signals are those of every daemon (core's runDaemon).
// before anything that loads pg (see there)
import '@skytools/core/runtime-globals';
import { parseListenAddress, runDaemon, StatusServer } from '@skytools/core';
import { loadPgqdConfig, PGQD_INI, PGQD_SPEC, PGQD_STATUS_PAGE, PgqdDaemon, pgqdMetrics, pgqdStatus, samplePgqdConfig } from '../index.js';

await runDaemon({
  name: 'pgqd',
  describe: 'PgQ ticker daemon: ticks queues and runs maintenance in every database of a cluster.',
  load: loadPgqdConfig,
  sample: samplePgqdConfig,
  importIni: { spec: PGQD_SPEC, format: PGQD_INI },
  start: async (config, log, current) => {
    const daemon = new PgqdDaemon(config, log);
    const server = new StatusServer({ metrics: () => pgqdMetrics(daemon.databaseStats(), daemon.reach()), status: () => pgqdStatus(daemon.databaseStats(), daemon.reach()), page: PGQD_STATUS_PAGE }, log);
    const listen = (at: string | undefined): Promise<void> => server.listen(at === undefined ? undefined : parseListenAddress(at));
    await listen(config.metrics_listen);
    daemon.start();
    return {
      reload: async () => {
        daemon.reload(current());
        await listen(current().metrics_listen).catch((err: unknown) => log.error(`${err instanceof Error ? err.message : String(err)}; the listener stays as it was`));
      },
      stop: async () => {
        await server.close();
        await daemon.stop();
        return true;
      },
    };
  },
});
