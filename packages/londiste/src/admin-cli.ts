/**
 * `londiste JOB.yaml COMMAND [ARGS]`: the admin commands, parsed with yargs. The binary gives
 * argv, a logger and an output function; this module never touches the console itself.
 */
import yargs, { type Argv } from 'yargs';
import { ConfigWarnings, describeError, formatDuration, iniToYaml, killPidfile, pgDiagnostics, signalPidfile, SKYTOOLS_TS_VERSION, SQLSTATE, UsageError, writeNewFile, type ClosableLogger, type LogLevel, type NodeType } from '@skytools/core';
import { JOB_INI, JOB_SPEC, loadJobConfig, sampleJobConfig, type JobConfig } from './job-config.js';
import { NodeAdmin } from './node-admin.js';
import type { Output } from './commands/status.js';
import { describeHandlers } from './handlers/handler-registry.js';
import { loadHandlerModules } from './handlers/handler-modules.js';

export interface CliEnv {
  out: Output;
  /** Aborted on SIGINT/SIGTERM: long-running commands (worker) stop gracefully. */
  signal?: AbortSignal;
  /** Builds the logger once the job file (logfile, loglevel) and -v/-q are known. */
  makeLogger: (job: JobConfig | undefined, level: LogLevel) => ClosableLogger;
  /** Registers the worker's reload (SIGHUP: re-read the job file); the binary owns the signal. */
  onReload?: (reload: () => void) => void;
}

// each command's module is loaded when that command runs: a start pays for its own command's modules only
const createNodeCommand = () => import('./commands/create-node.js');
const statusCommands = () => import('./commands/status.js');
const tableCommands = () => import('./commands/tables.js');
const executeCommand = () => import('./commands/execute.js');
const compareCommand = () => import('./commands/compare.js');
const repairCommand = () => import('./commands/repair.js');
const checkPrivilegesCommand = () => import('./commands/check-privileges.js');
const seqCommands = () => import('./commands/seqs.js');
const nodeControlCommands = () => import('./commands/node-control.js');
const waitCommands = () => import('./commands/wait.js');
const takeoverCommands = () => import('./commands/takeover.js');
const foregroundWorker = () => import('./worker/foreground.js');

type Opts = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);
const bool = (v: unknown): boolean => v === true;

interface CommandDef {
  describe: string;
  usage?: string;
  run: (admin: NodeAdmin, args: string[], o: Opts, out: Output) => Promise<void>;
}

function createCmd(type: NodeType): CommandDef {
  return {
    describe: `initialize this database as a ${type} node${type === 'root' ? '' : ' (needs --provider)'}`,
    usage: 'NODE [CONNSTR]',
    run: async (admin, args, o) => {
      if (args.length > 2) throw new UsageError('Too many args, only node name and public connect string allowed');
      const merge = o['merge'];
      if (merge === false || (merge !== undefined && type !== 'leaf')) throw new UsageError('--merge=QUEUE is for create-leaf only: the combined queue this leaf merges its queue into');
      await (await createNodeCommand()).createNode(admin, { type, nodeName: args[0], location: args[1], provider: str(o['provider']), merge: str(merge) });
    },
  };
}

/** add-table's --no-merge; --merge=QUEUE is create-leaf's. */
const noMergeFlag = (v: unknown): boolean => {
  if (typeof v === 'string') throw new UsageError('--merge=QUEUE is for create-leaf (the combined queue of a merge leaf); add-table takes --merge-all or --no-merge; nothing was changed');
  return v === false;
};

const noArgs = (name: string, args: string[]): void => {
  if (args.length > 0) throw new UsageError(`${name} takes no arguments (got: ${args.join(' ')})`);
};
const oneArg = (name: string, what: string, args: string[]): string => {
  if (args.length !== 1 || args[0] === undefined) throw new UsageError(`${name} needs exactly one ${what}`);
  return args[0];
};

export const COMMANDS: Record<string, CommandDef> = {
  'create-root': createCmd('root'),
  'create-branch': createCmd('branch'),
  'create-leaf': createCmd('leaf'),
  status: { describe: 'show the cascade as a tree (--compact: a line per node)', run: async (a, args, o, out) => { noArgs('status', args); await (await statusCommands()).cmdStatus(a, out, bool(o['compact'])); } },
  'node-status': { describe: 'show the local node', run: async (a, args, _o, out) => { noArgs('node-status', args); await (await statusCommands()).cmdNodeStatus(a, out); } },
  'node-info': { describe: 'show the local node and its connect strings', run: async (a, args, _o, out) => { noArgs('node-info', args); await (await statusCommands()).cmdNodeInfo(a, out); } },
  members: { describe: 'list the member nodes of the queue', run: async (a, args, _o, out) => { noArgs('members', args); await (await statusCommands()).cmdMembers(a, out); } },
  'add-table': {
    describe: 'replicate tables to/from this node',
    usage: 'TABLE ...',
    run: async (a, args, o) =>
      (await tableCommands()).cmdAddTable(a, args, {
        all: bool(o['all']),
        force: bool(o['force']),
        destTable: str(o['dest-table']),
        where: str(o['where']),
        create: bool(o['create']),
        createFull: bool(o['create-full']),
        expectSync: bool(o['expect-sync']),
        skipTruncate: bool(o['skip-truncate']),
        triggerFlags: str(o['trigger-flags']),
        triggerArg: strs(o['trigger-arg']),
        // yargs reads --no-X as X=false
        noTriggers: o['triggers'] === false,
        noMerge: noMergeFlag(o['merge']),
        mergeAll: bool(o['merge-all']),
        handler: str(o['handler']),
        handlerArgs: strs(o['handler-arg']),
        maxParallelCopy: typeof o['max-parallel-copy'] === 'number' ? o['max-parallel-copy'] : undefined,
        skipNonExisting: bool(o['skip-non-existing']),
        ...copyNodeOptions(o),
      }),
  },
  execute: { describe: 'run SQL files here and, from the root, on every node in order with the data', usage: 'FILE ...', run: async (a, args) => (await executeCommand()).cmdExecute(a, args) },
  'remove-table': { describe: 'stop replicating tables on this node', usage: 'TABLE ...', run: async (a, args, o) => (await tableCommands()).cmdRemoveTable(a, args, { all: bool(o['all']), force: bool(o['force']) }) },
  'add-seq': {
    describe: 'replicate sequences to/from this node',
    usage: 'SEQ ...',
    run: async (a, args, o) =>
      (await seqCommands()).cmdAddSeq(a, args, { all: bool(o['all']), force: bool(o['force']), create: bool(o['create']) || bool(o['create-full']), skipNonExisting: bool(o['skip-non-existing']) }),
  },
  'remove-seq': { describe: 'stop replicating sequences on this node', usage: 'SEQ ...', run: async (a, args, o) => (await seqCommands()).cmdRemoveSeq(a, args, { all: bool(o['all']), force: bool(o['force']) }) },
  tables: { describe: 'list the tables of this node with their state', run: async (a, args, o, out) => { noArgs('tables', args); await (await tableCommands()).cmdTables(a, out, bool(o['names-only'])); } },
  seqs: { describe: 'list the sequences of this node', run: async (a, args, _o, out) => { noArgs('seqs', args); await (await seqCommands()).cmdSeqs(a, out); } },
  missing: { describe: 'list tables and sequences not replicated yet', run: async (a, args, _o, out) => { noArgs('missing', args); await (await tableCommands()).cmdMissing(a, out); } },
  'change-handler': {
    describe: 'give a replicated table another handler (--handler=NAME --handler-arg=K=V ...; none: the default)',
    usage: 'TABLE',
    run: async (a, args, o) => (await tableCommands()).cmdChangeHandler(a, oneArg('change-handler', 'table', args), { handler: str(o['handler']), handlerArgs: strs(o['handler-arg']) }),
  },
  'show-handlers': {
    describe: 'list the table handlers (with names: their arguments)',
    usage: '[NAME ...]',
    run: async (_a, args, _o, out) => {
      out(describeHandlers(args));
      await Promise.resolve();
    },
  },
  resync: {
    describe: 'copy tables again from the provider',
    usage: 'TABLE ...',
    run: async (a, args, o) => (await tableCommands()).cmdResync(a, args, { all: bool(o['all']), force: bool(o['force']), ...copyNodeOptions(o) }),
  },
  pause: {
    describe: 'pause a worker (default: this node\'s)',
    run: async (a, args, o) => {
      noArgs('pause', args);
      await (await nodeControlCommands()).cmdSetPaused(a, true, { node: str(o['node']), consumer: str(o['consumer']), waitSeconds: Number(o['wait-timeout'] ?? 30) });
    },
  },
  resume: {
    describe: 'resume a paused worker (default: this node\'s)',
    run: async (a, args, o) => {
      noArgs('resume', args);
      await (await nodeControlCommands()).cmdSetPaused(a, false, { node: str(o['node']), consumer: str(o['consumer']), waitSeconds: Number(o['wait-timeout'] ?? 30) });
    },
  },
  'wait-sync': { describe: 'wait until every table of this node is in sync', run: async (a, args, o) => { noArgs('wait-sync', args); await (await waitCommands()).cmdWaitSync(a, Number(o['wait-timeout'] ?? 0)); } },
  'wait-root': { describe: 'wait until this node has applied the root\'s newest tick', run: async (a, args, o) => { noArgs('wait-root', args); await (await waitCommands()).cmdWaitFor(a, 'root', Number(o['wait-timeout'] ?? 0)); } },
  'wait-provider': { describe: 'wait until this node has applied its provider\'s newest tick', run: async (a, args, o) => { noArgs('wait-provider', args); await (await waitCommands()).cmdWaitFor(a, 'provider', Number(o['wait-timeout'] ?? 0)); } },
  'change-provider': {
    describe: 'move this node (or --node) to read from another node (--provider=NODE)',
    run: async (a, args, o) => {
      noArgs('change-provider', args);
      await (await takeoverCommands()).cmdChangeProvider(a, { node: str(o['node']), provider: str(o['provider']), waitSeconds: Number(o['wait-timeout'] ?? 60) });
    },
  },
  takeover: {
    describe: 'this node takes the place of OLD_NODE (root switchover, --dead-root failover, branch takeover)',
    usage: 'OLD_NODE',
    run: async (a, args, o) =>
      (await takeoverCommands()).cmdTakeover(a, oneArg('takeover', 'old node name', args), {
        all: bool(o['all']),
        deadRoot: bool(o['dead-root']),
        deadBranch: bool(o['dead-branch']),
        dead: strs(o['dead']),
        waitMs: Number(o['wait-timeout'] ?? 60) * 1000,
        catchUpMs: Number(o['wait-timeout'] ?? 60) * 1000,
        maxLagSeconds: Number(o['max-lag'] ?? 60),
      }),
  },
  resurrect: {
    describe: 'bring this failed-over old root back as a branch; list and dump the events it captured that never reached the others',
    run: async (a, args, o) => {
      noArgs('resurrect', args);
      await (await takeoverCommands()).cmdResurrect(a, str(o['dump-file']));
    },
  },
  'rename-node': {
    describe: 'give a node a new name on every member',
    usage: 'OLD_NAME NEW_NAME',
    run: async (a, args, o) => (await takeoverCommands()).cmdRenameNode(a, args, Number(o['wait-timeout'] ?? 60)),
  },
  compare: {
    describe: 'compare tables of this node with the root (row counts and checksums, each at one point of the stream)',
    usage: '[TABLE ...]',
    run: async (a, args, o, out) => (await compareCommand()).cmdCompare(a, args, { all: bool(o['all']), countOnly: bool(o['count-only']), waitSeconds: Number(o['wait-timeout'] ?? 60) }, out),
  },
  repair: {
    describe: 'the SQL that makes this node\'s tables equal to the root\'s (--apply: run it here)',
    usage: '[TABLE ...]',
    run: async (a, args, o, out) => (await repairCommand()).cmdRepair(a, args, { all: bool(o['all']), apply: bool(o['apply']), output: str(o['output']), waitSeconds: Number(o['wait-timeout'] ?? 60) }, out),
  },
  'check-privileges': {
    describe: 'check what this job\'s users need here and on the provider; print the GRANTs that are missing',
    run: async (a, args, _o, out) => {
      noArgs('check-privileges', args);
      await (await checkPrivilegesCommand()).cmdCheckPrivileges(a, out);
    },
  },
  'tag-dead': { describe: 'mark a node as dead on every reachable member', usage: 'NODE', run: async (a, args, _o, out) => (await nodeControlCommands()).cmdTagDead(a, oneArg('tag-dead', 'node name', args), out) },
  'tag-alive': { describe: 'undo tag-dead: mark a node alive on every reachable member', usage: 'NODE', run: async (a, args, _o, out) => (await nodeControlCommands()).cmdTagAlive(a, oneArg('tag-alive', 'node name', args), out) },
  'drop-node': { describe: 'remove a node from the cascade', usage: 'NODE', run: async (a, args, o) => (await nodeControlCommands()).cmdDropNode(a, oneArg('drop-node', 'node name', args), bool(o['force'])) },
};

function addOptions(y: Argv): Argv {
  return y
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'debug logging' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'log only warnings and errors' })
    .option('ini', { type: 'boolean', describe: 'print a commented sample job file and exit' })
    .option('reload', { alias: 'r', type: 'boolean', describe: "tell the job's running worker (its pidfile) to re-read the job file" })
    .option('stop', { alias: 's', type: 'boolean', describe: "tell the job's running worker (its pidfile) to stop gracefully" })
    .option('kill', { alias: 'k', type: 'boolean', describe: "kill the job's running worker (its pidfile) at once" })
    .option('daemon', { alias: 'd', type: 'boolean', hidden: true })
    .option('provider', { type: 'string', describe: 'create-branch/leaf: connect string of the provider node' })
    .option('all', { type: 'boolean', describe: 'add/remove: every table (or sequence) available' })
    .option('force', { type: 'boolean', describe: 'go on despite missing objects / subscribers' })
    .option('dest-table', { type: 'string', describe: 'add-table: local name of the table (another schema/name)' })
    .option('where', { type: 'string', describe: 'add-table: replicate only rows matching this SQL condition' })
    .option('create', { type: 'boolean', describe: 'add-table/add-seq: create missing local objects (columns and primary key)' })
    .option('create-full', { type: 'boolean', describe: 'add-table: create missing tables with defaults, constraints and indexes' })
    .option('expect-sync', { type: 'boolean', describe: 'add-table: tables are in sync already, no copy' })
    .option('skip-truncate', { type: 'boolean', describe: 'add-table: do not truncate the local table before copy' })
    .option('trigger-flags', { type: 'string', describe: 'add-table: trigger flags (BAIUDLQ)' })
    .option('trigger-arg', { type: 'string', describe: 'add-table: extra trigger argument (repeatable)' })
    .option('triggers', { type: 'boolean', describe: 'add-table: --no-triggers: no capture triggers on the table' })
    .option('handler', { type: 'string', describe: 'add-table/change-handler: the table handler (show-handlers lists them)' })
    .option('handler-arg', { type: 'string', describe: 'add-table/change-handler: handler argument KEY=VALUE (repeatable)' })
    .option('copy-node', { type: 'string', describe: 'add-table/resync: copy the tables from this node of the cascade (a branch or leaf that has them) instead of the provider' })
    .option('find-copy-node', { type: 'boolean', describe: 'add-table/resync: copy from the first node, from the provider upwards, that has the tables' })
    .option('merge-all', { type: 'boolean', describe: 'add-table: on a leaf merging several queues, replicate the table from all of them into one' })
    .option('merge', { type: 'string', describe: 'create-leaf: --merge=QUEUE merges this queue into the combined queue QUEUE (a root on this database); add-table: --no-merge takes the table from this queue only' })
    .option('max-parallel-copy', { type: 'number', describe: 'add-table: max tables copied in parallel' })
    .option('skip-non-existing', { type: 'boolean', describe: 'add-*: skip objects that do not exist' })
    .option('dump-file', { type: 'string', describe: 'resurrect: file for the lost events (JSON lines; default resurrect-NODE-lost-events.jsonl)' })
    .option('count-only', { type: 'boolean', describe: 'compare: row counts only, no checksums' })
    .option('apply', { type: 'boolean', describe: 'repair: apply the fixes on this node (one transaction per table)' })
    .option('output', { alias: 'o', type: 'string', describe: 'repair: write the fixing SQL to this file (default: stdout); import-ini: write the YAML to this new file (mode 0600, passwords kept)' })
    .option('compact', { type: 'boolean', describe: 'status: one line per node' })
    .option('names-only', { type: 'boolean', describe: 'tables: only the names' })
    .option('node', { type: 'string', describe: 'pause/resume/change-provider: the node to act on (default: this one)' })
    .option('dead-root', { type: 'boolean', describe: 'takeover: the old root is dead; fail over to this node' })
    .option('dead-branch', { type: 'boolean', describe: 'takeover: the old branch is dead; this node takes its subscribers' })
    .option('dead', { type: 'string', describe: 'takeover: treat this node as dead, do not contact it (repeatable)' })
    .option('max-lag', { type: 'number', describe: 'takeover: refuse a switchover when this node is more seconds behind the root (default 60)' })
    .option('consumer', { type: 'string', describe: 'pause/resume: worker (consumer) name' })
    .option('wait-timeout', { type: 'number', describe: 'pause/resume (default 30), change-provider/takeover (default 60) and wait-* (default 0: forever): seconds to wait for a worker' });
}

function commandList(): string {
  const all: [string, CommandDef][] = [...Object.entries(COMMANDS), ['worker', { describe: 'run the replication worker of this job in the foreground', run: () => Promise.resolve() }]];
  const heads = all.map(([k, c]) => `${k} ${c.usage ?? ''}`.trimEnd());
  // the widest command with its arguments, plus a gap
  const w = Math.max(...heads.map((h) => h.length)) + 2;
  return all.map(([, c], i) => `  ${(heads[i] ?? '').padEnd(w)}${c.describe}`).join('\n');
}

/** Options only some commands take: given to another, refused (never stored and ignored). */
const COMMAND_ONLY: Record<string, readonly string[]> = {
  'copy-node': ['add-table', 'resync'],
  'find-copy-node': ['add-table', 'resync'],
};

function refuseMisplacedOptions(parsed: Opts, command: string): void {
  for (const [opt, commands] of Object.entries(COMMAND_ONLY)) {
    if (parsed[opt] === undefined || parsed[opt] === false || commands.includes(command)) continue;
    throw new UsageError(`--${opt} is for ${commands.join(' and ')}, not ${command}; nothing was changed`);
  }
}

function copyNodeOptions(o: Opts): { copyNode: string | undefined; findCopyNode: boolean } {
  return { copyNode: typeof o['copy-node'] === 'string' ? o['copy-node'] : undefined, findCopyNode: bool(o['find-copy-node']) };
}

/**
 * Errors whose PostgreSQL message names no way out, said again with it: a statement that waited
 * lock_timeout for a table lock (55P03: the setting and a retry; the command's transaction is
 * rolled back, so nothing changed), and a missing privilege (42501: check-privileges).
 */
function explainError(err: unknown, job: JobConfig, command: string, args: readonly string[]): unknown {
  if (pgDiagnostics(err).code === SQLSTATE.insufficientPrivilege) {
    return new UsageError(`${describeError(err)}; see what this job's users lack with: londiste ${job.file} check-privileges`, { cause: err });
  }
  if (pgDiagnostics(err).code !== SQLSTATE.lockNotAvailable) return err;
  const what = [command, ...args].join(' ');
  return new UsageError(
    `${what}: ${describeError(err)}: another session holds a lock on a table this command changes, and lock_timeout (${formatDuration(job.lock_timeout)} in ${job.file}) ran out; nothing was changed: retry when the lock is released, or raise lock_timeout`,
    { cause: err },
  );
}

/** Run the CLI; resolves to the exit code. Errors propagate to the binary, which prints them. */
export async function runAdminCli(argv: readonly string[], env: CliEnv): Promise<number> {
  const parser = addOptions(
    yargs([...argv])
      .scriptName('londiste')
      // yargs' own messages in English, like ours, whatever LANG says (the londiste bundle has no
      // yargs locale files anyway)
      .locale('en')
      .usage(`$0 JOB.yaml COMMAND [ARGS] [options]\n$0 JOB.yaml -r|-s|-k\n$0 import-ini JOB.ini\n\nLondiste replication admin tool. JOB files are YAML, or upstream's .ini.\n\nCommands:\n${commandList()}`)
      .version(SKYTOOLS_TS_VERSION)
      .help()
      .strictOptions()
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      }),
  );
  const parsed = await parser.parseAsync();
  if (parsed['help'] === true || parsed['version'] === true) return 0;
  if (parsed['ini'] === true) {
    for (const l of sampleJobConfig().trimEnd().split('\n')) env.out(l);
    return 0;
  }
  const positional = parsed._.map(String);
  if (positional[0] === 'import-ini') {
    if (positional.length !== 2 || positional[1] === undefined) throw new UsageError('import-ini needs exactly one .ini file: londiste import-ini JOB.ini [-o JOB.yaml]');
    const output = str(parsed['output']);
    if (output === undefined) env.out(iniToYaml(positional[1], JOB_SPEC, JOB_INI, { hidePasswords: true }).trimEnd());
    else writeNewFile(output, iniToYaml(positional[1], JOB_SPEC, JOB_INI, { hidePasswords: false }));
    return 0;
  }
  const [jobFile, command, ...args] = positional;
  if (jobFile === undefined) throw new UsageError('missing JOB.yaml (see londiste --help)');
  if (parsed['daemon'] === true) {
    throw new UsageError(`-d: londiste does not detach itself; run the job under londisted (a file in its jobs_dir) or systemd (docs/londisted.md), or in your shell's background`);
  }
  if (parsed['reload'] === true || parsed['stop'] === true || parsed['kill'] === true) {
    if (command !== undefined && command !== 'worker') throw new UsageError(`-r/-s/-k act on the running worker and take no command (got ${command})`);
    const job = loadJobConfig(jobFile);
    const who = `londiste job ${job.job_name}`;
    if (parsed['kill'] === true) await killPidfile(job.pidfile, who);
    else signalPidfile(job.pidfile, parsed['stop'] === true ? 'SIGTERM' : 'SIGHUP', who);
    return 0;
  }
  if (command === undefined) throw new UsageError(`missing COMMAND after ${jobFile} (see londiste --help)`);
  const def = COMMANDS[command];
  if (def === undefined && command !== 'worker') throw new UsageError(`unknown command "${command}" (see londiste --help)`);
  refuseMisplacedOptions(parsed, command);
  const warnings = new ConfigWarnings();
  const job = loadJobConfig(jobFile, warnings.warn);
  const level: LogLevel = parsed['verbose'] === true ? 'debug' : parsed['quiet'] === true ? 'warning' : job.loglevel;
  const log = env.makeLogger(job, level);
  warnings.attach(log);
  if (command === 'worker') {
    if (args.length > 0) throw new UsageError(`worker takes no arguments (got: ${args.join(' ')})`);
    try {
      await (await foregroundWorker()).runWorkerForeground(job, log, env.signal ?? new AbortController().signal, env.onReload, warnings.warn);
    } finally {
      await log.close();
    }
    return 0;
  }
  const admin = new NodeAdmin(job, log);
  try {
    if (def === undefined) return 2;
    await loadHandlerModules(job.handler_modules ?? [], job.file);
    await def.run(admin, args, parsed, env.out);
  } catch (err) {
    throw explainError(err, job, command, args);
  } finally {
    await admin.close();
    await log.close();
  }
  return 0;
}
