/** pgqd.yaml: which cluster to serve and how often to tick, retry and maintain. */
import { DAEMON_KEYS, loadConfigFile, parseListenAddress, sampleConfig, type ConfigOf, type ConfigSpec, type ConfigWarn, type IniFormat, upstreamKeysWith } from '@skytools/core';

export const PGQD_SPEC = {
  base_connstr: { type: 'connstr', default: '', describe: 'Connection string without dbname (host, port, user, ...);\nempty uses the PG* environment / libpq defaults.', example: "'host=127.0.0.1 port=5432 user=postgres'" },
  initial_database: { type: 'string', default: 'template1', describe: 'Database connected to for listing the others.' },
  database_list: { type: 'strings', describe: 'Serve only these databases (turns discovery off).' },
  check_period: { type: 'duration', default: '60s', minMs: 100, describe: 'How often to look for new and dropped databases.' },
  ticker_period: {
    type: 'duration',
    default: '100ms',
    minMs: 10,
    describe: 'How often to run pgq.ticker() in every database: what bounds replication lag\n(upstream: 1s; with hundreds of databases, 1s costs a tenth).',
  },
  retry_period: { type: 'duration', default: '30s', minMs: 10, describe: 'How often to move due retry events back into their queues.' },
  maint_period: { type: 'duration', default: '120s', minMs: 10, describe: 'How often to run the maintenance operations (rotation, vacuum, watermarks).' },
  stats_period: { type: 'duration', default: '30s', minMs: 100, describe: 'How often to log the ticks/maint/retry counters.' },
  connection_lifetime: { type: 'duration', default: '1h', minMs: 1000, describe: 'Reconnect after this long (lets server settings and memory refresh).' },
  metrics_listen: {
    type: 'string',
    describe: 'Serve Prometheus metrics (/metrics), a status page (/) and /status.json here:\nPORT (on 127.0.0.1), HOST:PORT or [IPv6]:PORT; read-only. Off when absent.',
    example: '127.0.0.1:9188',
  },
  ...DAEMON_KEYS,
} as const satisfies ConfigSpec;

export type PgqdConfig = ConfigOf<typeof PGQD_SPEC>;

const SYSLOG = 'logs go to logfile or stderr (the journal under systemd)';

/** Upstream pgqd.ini: section [pgqd]; its syslog keys have no counterpart here. */
export const PGQD_INI: IniFormat = {
  services: ['pgqd'],
  upstreamKeys: upstreamKeysWith('none', SYSLOG, 'syslog', 'syslog_ident', 'syslog_facility'),
};

/** pgqd's file: YAML, or upstream's pgqd.ini (`warn` hears each upstream key dropped from it). */
export function loadPgqdConfig(file: string, warn?: ConfigWarn): PgqdConfig {
  const config = loadConfigFile(file, PGQD_SPEC, PGQD_INI, warn);
  if (config.metrics_listen !== undefined) parseListenAddress(config.metrics_listen, `${file}: metrics_listen`);
  return config;
}

export function samplePgqdConfig(): string {
  return sampleConfig(PGQD_SPEC, 'pgqd: PgQ ticker and maintenance daemon for every database of a cluster.\nUsage: pgqd --config pgqd.yaml');
}
