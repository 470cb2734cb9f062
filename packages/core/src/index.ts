/**
 * The public surface of @skytools/core, named one by one. Internals that tests need are in
 * ./internal.ts (`@skytools/core/internal`), not here.
 */
export { SkytoolsError, UsageError, describeError, pgDiagnostics, type SkytoolsErrorOptions } from './errors.js';
export { SQLSTATE } from './sqlstate.js';
export { quoteIdent, quoteLiteral, quoteFqname, splitFqname } from './identifiers.js';
export { parseConnstr, formatConnstr, maskConnstr, maskSecrets, type ConnParams } from './connstr.js';
export { SKYTOOLS_TS_VERSION } from './version.js';
export { createLogger, silentLogger, quietLogger, heldLogger, type Logger, type ClosableLogger, type LogLevel, type LogFormat, type LoggerOptions } from './logger.js';
export { serviceNotifier, type ServiceNotifier } from './service-notify.js';
export { parseDuration, formatDuration } from './duration.js';
export { loadConfigFile, validateConfig, sampleConfig, iniToYaml, writeNewFile, upstreamKeysWith, DAEMON_KEYS, type ConfigSpec, type ConfigOf, type FieldSpec, type FieldType, type IniFormat, type UpstreamKey, type ConfigWarn } from './config.js';
export { parseIni, iniSection, isIniFile, type IniDocument } from './ini-file.js';
export { ConfigWarnings } from './config-warnings.js';
export { connect, disconnect, ConnectionError, type ConnectOptions } from './db.js';
export { guardStalls } from './stall-guard.js';
export { installSchemas, SchemaInstallError, type InstallOptions, type InstallResult, type InstallAction } from './schema-installer.js';
export type { SchemaName } from './schema-files.js';
export { execCmd, CommandFailedError, type RetRow } from './exec-cmd.js';
export { formatDisplayTable, type Cell } from './display-table.js';
export { urlEncode, urlDecode, urlDecodePart, forEachPair, isEncoded } from './urlencode.js';
export { TxidSnapshot } from './txid-snapshot.js';
export { listenForTicks, TICK_CHANNEL } from './tick-listener.js';
export { TickHub, type TickSubscription } from './tick-hub.js';
export { WakeLatch } from './wake-latch.js';
export { sleep, Backoff } from './sleep.js';
export { PidFile, signalPidfile, killPidfile } from './pidfile.js';
export { runDaemon, type DaemonSpec, type Daemon } from './daemon-runner.js';
export type { PgqEvent, BatchInfo } from './sql/pgq-batch.js';
export type { NewEvent } from './sql/pgq.js';
export type { NodeInfoRow, MemberInfo, NodeType, WorkerState } from './sql/pgq-node.js';
export type { TableRow, SeqRow, TableErrorRow } from './sql/londiste.js';
export type { ColumnInfo, IndexInfo, ConstraintInfo, TableTraits } from './sql/catalog.js';

/** The SQL APIs, one typed module each: functions that take a client and return typed rows. */
export * as pgq from './sql/pgq.js';
export * as pgqNode from './sql/pgq-node.js';
export * as londisteSql from './sql/londiste.js';
export * as catalog from './sql/catalog.js';
export * as session from './sql/session.js';
export { copyField, copyLine, decodeCopyField } from './copy-text.js';
export { copyOutLines } from './copy-out.js';
export { CopyRelay, type CopyRelayResult } from './copy-relay.js';
export { parseListenAddress, formatListenAddress, type ListenAddress } from './listen-address.js';
export { MetricsText, PROMETHEUS_CONTENT_TYPE, type MetricType, type Labels } from './prometheus-text.js';
export { StatusServer, type StatusContent } from './status-server.js';
export * as pgqExt from './sql/pgq-ext.js';
export * as pgqCoop from './sql/pgq-coop.js';
