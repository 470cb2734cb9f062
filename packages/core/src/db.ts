/**
 * Connecting to PostgreSQL from a connection string (libpq `key=value` or `postgres://` URL).
 * Missing parameters fall back to the PG* environment variables and ~/.pgpass (or PGPASSFILE), as
 * libpq does (the `pg` driver implements both); a `passfile=` option names another password file. Connection strings only ever reach logs masked.
 */
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { maskConnstr, parseConnstr, type ConnParams } from './connstr.js';
import { passwordFromFile } from './passfile.js';
import { SkytoolsError, UsageError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';

/** libpq keywords we accept; others are rejected so typos do not pass silently. */
const KNOWN_KEYS = new Set([
  'host', 'hostaddr', 'port', 'user', 'password', 'dbname', 'application_name', 'connect_timeout',
  'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'options', 'keepalives', 'keepalives_idle',
  'target_session_attrs', 'client_encoding', 'fallback_application_name', 'passfile',
]);

/** Failure to reach a database; the message carries the masked connection string. */
export class ConnectionError extends SkytoolsError {}

export interface ConnectOptions {
  /** Logical name for log lines, e.g. 'db', 'provider_db' (upstream: "Connect 'db' to '...'"). */
  name?: string;
  applicationName?: string;
  logger?: Logger;
  /** Server-side statement timeout etc. could go here later; keep the surface small. */
  connectTimeoutMs?: number;
}

function sslConfig(params: ConnParams): pg.ClientConfig['ssl'] {
  const mode = params['sslmode'];
  if (mode === undefined || mode === 'disable' || mode === 'allow' || mode === 'prefer') return undefined;
  const verify = mode === 'verify-ca' || mode === 'verify-full';
  const ssl: Record<string, unknown> = { rejectUnauthorized: verify };
  if (params['sslrootcert'] !== undefined) ssl['ca'] = readFileSync(params['sslrootcert'], 'utf8');
  if (params['sslcert'] !== undefined) ssl['cert'] = readFileSync(params['sslcert'], 'utf8');
  if (params['sslkey'] !== undefined) ssl['key'] = readFileSync(params['sslkey'], 'utf8');
  if (mode === 'verify-ca') ssl['checkServerIdentity'] = () => undefined;
  return ssl;
}

/** Translate a connection string into `pg` client settings. */
export function clientConfig(connstr: string, options: ConnectOptions = {}): pg.ClientConfig {
  const params = parseConnstr(connstr);
  for (const key of Object.keys(params)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new UsageError(`unknown connection option "${key}" in '${maskConnstr(connstr)}'`);
    }
  }
  const cfg: pg.ClientConfig = {};
  const host = params['hostaddr'] ?? params['host'];
  if (host !== undefined) cfg.host = host;
  if (params['port'] !== undefined) {
    const port = Number(params['port']);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`invalid port "${params['port']}" in '${maskConnstr(connstr)}'`);
    cfg.port = port;
  }
  if (params['user'] !== undefined) cfg.user = params['user'];
  if (params['password'] !== undefined) cfg.password = params['password'];
  if (params['dbname'] !== undefined) cfg.database = params['dbname'];
  if (params['password'] === undefined && params['passfile'] !== undefined) {
    // matched as libpq does: host (not hostaddr), then the PG* environment, then the defaults
    const env = process.env;
    const port = params['port'] ?? env['PGPORT'];
    const password = passwordFromFile(params['passfile'], {
      host: params['host'] ?? env['PGHOST'] ?? params['hostaddr'],
      port: port === undefined ? undefined : Number(port),
      database: params['dbname'] ?? env['PGDATABASE'],
      user: params['user'] ?? env['PGUSER'],
    });
    if (password !== undefined) cfg.password = password;
  }
  const app = params['application_name'] ?? options.applicationName ?? params['fallback_application_name'];
  if (app !== undefined) cfg.application_name = app;
  if (params['options'] !== undefined) cfg.options = params['options'];
  if (params['client_encoding'] !== undefined) cfg.client_encoding = params['client_encoding'];
  const timeoutSec = params['connect_timeout'] !== undefined ? Number(params['connect_timeout']) : undefined;
  const timeoutMs = timeoutSec !== undefined && timeoutSec > 0 ? timeoutSec * 1000 : options.connectTimeoutMs;
  if (timeoutMs !== undefined) cfg.connectionTimeoutMillis = timeoutMs;
  if (params['keepalives'] !== '0') cfg.keepAlive = true;
  if (params['keepalives_idle'] !== undefined) cfg.keepAliveInitialDelayMillis = Number(params['keepalives_idle']) * 1000;
  const ssl = sslConfig(params);
  if (ssl !== undefined) cfg.ssl = ssl;
  return cfg;
}

/** Connect, logging the masked target at debug level; failures name the masked target. */
export async function connect(connstr: string, options: ConnectOptions = {}): Promise<pg.Client> {
  const log = options.logger ?? silentLogger;
  const masked = maskConnstr(connstr);
  log.debug(`Connect '${options.name ?? 'db'}' to '${masked}'`);
  const client = new pg.Client(clientConfig(connstr, options));
  // An idle connection that breaks must not crash the process; the next query reports it.
  client.on('error', (err) => log.warning(`connection '${options.name ?? 'db'}' lost: ${err.message}`));
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new ConnectionError(`cannot connect to '${masked}': ${(err as Error).message}`, { cause: err });
  }
  return client;
}

/**
 * Close a connection without waiting on the peer for ever: a clean end when the server answers,
 * otherwise the socket is destroyed after `timeoutMs` (a half-open peer never acknowledges).
 */
export async function disconnect(client: pg.Client | undefined, timeoutMs = 5000): Promise<void> {
  if (client === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const ended = client.end().catch(() => undefined);
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.connection.stream.destroy();
      resolve();
    }, timeoutMs);
  });
  await Promise.race([ended, timedOut]);
  clearTimeout(timer);
}
