/** londisted.yaml: where the job files are and what the supervisor shares between jobs. */
import { DAEMON_KEYS, loadConfigFile, parseListenAddress, sampleConfig, type ConfigOf, type ConfigSpec } from '@skytools/core';

export const SUPERVISOR_SPEC = {
  jobs_dir: { type: 'path', required: true, describe: "Directory of job files (*.yaml, or upstream's *.ini), one replication job each.", example: 'jobs.d' },
  max_parallel_copy: { type: 'int', default: 4, min: 1, max: 64, describe: 'Initial copies running at once across all jobs\n(each job also honours its own parallel_copies).' },
  restart_delay_max: { type: 'duration', default: '60s', describe: 'Longest wait before restarting a job that failed to start\n(the delay doubles from 1s up to this).' },
  shutdown_timeout: { type: 'duration', default: '30s', describe: 'On SIGTERM/SIGINT, how long batches in flight may take to commit.' },
  metrics_listen: {
    type: 'string',
    describe: 'Serve Prometheus metrics (/metrics), the status page (/) and /status.json here:\nPORT (on 127.0.0.1), HOST:PORT or [IPv6]:PORT; read-only, no passwords shown. Off when absent.',
    example: '127.0.0.1:9187',
  },
  ...DAEMON_KEYS,
} as const satisfies ConfigSpec;

export type SupervisorConfig = ConfigOf<typeof SUPERVISOR_SPEC>;

export function loadSupervisorConfig(file: string): SupervisorConfig {
  const config = loadConfigFile(file, SUPERVISOR_SPEC);
  if (config.metrics_listen !== undefined) parseListenAddress(config.metrics_listen, `${file}: metrics_listen`);
  return config;
}

export function sampleSupervisorConfig(): string {
  return sampleConfig(SUPERVISOR_SPEC, 'londisted: hosts every replication job of jobs_dir in one process.\nUsage: londisted --config londisted.yaml');
}
