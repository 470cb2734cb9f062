#!/usr/bin/env node
// pgqd pgqd.yaml (or upstream's pgqd.ini): the PgQ ticker daemon, in the foreground (systemd style). Options,
// pidfile and signals are those of every daemon (core's runDaemon).
import { runDaemon } from '@skytools/core';
import { loadPgqdConfig, PGQD_INI, PGQD_SPEC, PgqdDaemon, samplePgqdConfig } from '../index.js';

await runDaemon({
  name: 'pgqd',
  describe: 'PgQ ticker daemon: ticks queues and runs maintenance in every database of a cluster.',
  load: loadPgqdConfig,
  sample: samplePgqdConfig,
  importIni: { spec: PGQD_SPEC, format: PGQD_INI },
  start: (config, log, current) => {
    const daemon = new PgqdDaemon(config, log);
    daemon.start();
    return {
      reload: () => daemon.reload(current()),
      stop: async () => {
        await daemon.stop();
        return true;
      },
    };
  },
});
