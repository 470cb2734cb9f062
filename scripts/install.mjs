// `make install` / `make uninstall`: the built packages and their production dependencies under
// LIBDIR (no npm, no network: the node_modules `make build` installed are copied, only what the three
// packages need at run time), small launchers on BINDIR, the SQL under DATADIR/schema, systemd units
// and the sysusers file, and example configuration under SYSCONFDIR, where an existing file is never
// replaced. Paths come from the environment (the Makefile passes its variables); DESTDIR is prepended
// to every path written, never to the paths written into files.
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';
import { copyProductionTree, ROOT, WORKSPACES } from './production-tree.mjs';

const env = (name, fallback) => (process.env[name] !== undefined && process.env[name] !== '' ? process.env[name] : fallback);
const PREFIX = resolve(env('PREFIX', '/usr/local'));
const DESTDIR = env('DESTDIR', '');
const BINDIR = resolve(env('BINDIR', join(PREFIX, 'bin')));
const LIBDIR = resolve(env('LIBDIR', join(PREFIX, 'lib', 'skytools-ts')));
const DATADIR = resolve(env('DATADIR', join(PREFIX, 'share', 'skytools-ts')));
const DOCDIR = resolve(env('DOCDIR', join(PREFIX, 'share', 'doc', 'skytools-ts')));
const SYSCONFDIR = resolve(env('SYSCONFDIR', '/etc/skytools'));
const SYSTEMDUNITDIR = resolve(env('SYSTEMDUNITDIR', join(PREFIX, 'lib', 'systemd', 'system')));
const SYSUSERSDIR = resolve(env('SYSUSERSDIR', join(PREFIX, 'lib', 'sysusers.d')));
// the node that runs this script unless told otherwise: units run with a short PATH, so the launchers name it in full
const NODE = env('NODE', process.execPath);

const PROGRAMS = [
  ['pgqd', '@skytools/pgqd', 'dist/bin/pgqd.js'],
  ['londisted', '@skytools/londiste', 'dist/bin/londisted.js'],
  ['londiste', '@skytools/londiste', 'dist/bin/londiste.js'],
  ['pgq', '@skytools/pgq', 'dist/bin/pgq.js'],
];
const UNITS = ['pgqd.service', 'londisted.service', 'londiste-worker@.service'];
// marks the launchers as ours, so that uninstall removes nothing it did not write
const LAUNCHER_MARK = '# skytools-ts launcher';

// whole directories are replaced or removed only when they are plainly ours
for (const [name, dir] of [['LIBDIR', LIBDIR], ['DATADIR', DATADIR], ['DOCDIR', DOCDIR]]) {
  if (basename(dir) !== 'skytools-ts') {
    process.stderr.write(`ERROR ${name}=${dir}: must end in /skytools-ts (install replaces that directory as a whole)\n`);
    process.exit(2);
  }
}

const dest = (path) => (DESTDIR === '' ? path : join(DESTDIR, path));
const say = (line) => process.stdout.write(`${line}\n`);
const die = (line) => {
  process.stderr.write(`ERROR ${line}\n`);
  process.exit(1);
};
const shellQuote = (s) => `'${s.replaceAll("'", "'\\''")}'`;
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

function launcher(program, pkg, script) {
  return [
    '#!/bin/sh',
    `${LAUNCHER_MARK}: ${program} (make uninstall removes it)`,
    `if [ -z "\${SKYTOOLS_SCHEMA_DIR:-}" ]; then SKYTOOLS_SCHEMA_DIR=${shellQuote(join(DATADIR, 'schema'))}; fi`,
    'export SKYTOOLS_SCHEMA_DIR',
    `exec ${shellQuote(NODE)} ${shellQuote(join(LIBDIR, 'node_modules', pkg, script))} "$@"`,
    '',
  ].join('\n');
}

/** A unit with the installed paths in place of the defaults it is written with (/usr/local/bin, /etc/skytools, ...). */
function unitText(file) {
  return readFileSync(file, 'utf8')
    .replaceAll('/usr/local/bin/', `${BINDIR}/`)
    .replaceAll('/usr/local/share/doc/skytools-ts/', `${DOCDIR}/`)
    .replaceAll('/etc/skytools', SYSCONFDIR);
}

/** Write a config file only when there is none: the admin's edits survive every install. */
function installConfig(from, to) {
  if (existsSync(to)) {
    say(`kept ${to} (exists; the shipped example is in ${DATADIR}/config)`);
    return;
  }
  mkdirSync(dirname(to), { recursive: true });
  // 0640: config files may hold passwords; the group is given to the service user below when it exists
  writeFileSync(to, readFileSync(from), { mode: 0o640 });
  chmodSync(to, 0o640);
  if (DESTDIR === '' && process.getuid?.() === 0 && spawnSync('getent', ['group', 'skytools']).status === 0) {
    spawnSync('chgrp', ['skytools', to]);
  }
  say(`installed ${to}`);
}

function install() {
  // the library is built next to its final place and swapped in, so that no mix of two versions is ever run
  const lib = dest(LIBDIR);
  const staging = `${lib}.new-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  let count;
  try {
    count = copyProductionTree(staging, Object.keys(WORKSPACES), (name) => join(staging, 'node_modules', name));
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    die(err.message);
  }
  writeFileSync(join(staging, 'package.json'), `${JSON.stringify({ name: 'skytools-ts-installed', private: true, type: 'module', version: readJson(join(ROOT, 'package.json')).version }, null, 2)}\n`);
  rmSync(lib, { recursive: true, force: true });
  renameSync(staging, lib);
  say(`installed ${LIBDIR} (the packages and ${count - Object.keys(WORKSPACES).length} production dependencies)`);

  mkdirSync(dest(BINDIR), { recursive: true });
  for (const [program, pkg, script] of PROGRAMS) {
    writeFileSync(dest(join(BINDIR, program)), launcher(program, pkg, script), { mode: 0o755 });
    chmodSync(dest(join(BINDIR, program)), 0o755);
  }
  say(`installed ${PROGRAMS.map(([p]) => join(BINDIR, p)).join(', ')} (running ${NODE})`);

  const data = dest(DATADIR);
  rmSync(join(data, 'schema'), { recursive: true, force: true });
  cpSync(join(ROOT, 'schema'), join(data, 'schema'), { recursive: true });
  rmSync(join(data, 'config'), { recursive: true, force: true });
  cpSync(join(ROOT, 'config'), join(data, 'config'), { recursive: true });
  mkdirSync(join(data, 'logrotate'), { recursive: true });
  cpSync(join(ROOT, 'packaging', 'logrotate', 'skytools'), join(data, 'logrotate', 'skytools'));
  say(`installed ${DATADIR}/schema (psql -1 -f ${DATADIR}/schema/pgq/install.sql also works), config examples, logrotate snippet`);

  const doc = dest(DOCDIR);
  mkdirSync(doc, { recursive: true });
  for (const f of readdirSync(join(ROOT, 'docs')).filter((n) => n.endsWith('.md'))) cpSync(join(ROOT, 'docs', f), join(doc, f));
  cpSync(join(ROOT, 'README.md'), join(doc, 'README.md'));

  mkdirSync(dest(SYSTEMDUNITDIR), { recursive: true });
  for (const unit of UNITS) writeFileSync(dest(join(SYSTEMDUNITDIR, unit)), unitText(join(ROOT, 'packaging', 'systemd', unit)), { mode: 0o644 });
  mkdirSync(dest(SYSUSERSDIR), { recursive: true });
  cpSync(join(ROOT, 'packaging', 'systemd', 'skytools.sysusers'), dest(join(SYSUSERSDIR, 'skytools.conf')));
  say(`installed ${UNITS.map((u) => join(SYSTEMDUNITDIR, u)).join(', ')} and ${join(SYSUSERSDIR, 'skytools.conf')}`);

  const etc = dest(SYSCONFDIR);
  installConfig(join(ROOT, 'config', 'pgqd.yaml'), join(etc, 'pgqd.yaml'));
  installConfig(join(ROOT, 'config', 'londisted.yaml'), join(etc, 'londisted.yaml'));
  // the example jobs must not run by themselves: londisted reads *.yaml, *.yml and *.ini only
  for (const f of readdirSync(join(ROOT, 'config', 'jobs.d')).filter((n) => n.endsWith('.yaml'))) {
    installConfig(join(ROOT, 'config', 'jobs.d', f), join(etc, 'jobs.d', `${f}.example`));
  }
  mkdirSync(join(etc, 'worker.d'), { recursive: true });
}

/** Remove what install wrote, except the configuration (SYSCONFDIR is the admin's). */
function uninstall() {
  for (const [program] of PROGRAMS) {
    const file = dest(join(BINDIR, program));
    if (existsSync(file) && readFileSync(file, 'utf8').includes(LAUNCHER_MARK)) rmSync(file);
  }
  for (const dir of [LIBDIR, DATADIR, DOCDIR]) rmSync(dest(dir), { recursive: true, force: true });
  for (const unit of UNITS) rmSync(dest(join(SYSTEMDUNITDIR, unit)), { force: true });
  rmSync(dest(join(SYSUSERSDIR, 'skytools.conf')), { force: true });
  say(`removed the launchers, ${LIBDIR}, ${DATADIR}, ${DOCDIR}, the units and the sysusers file; ${SYSCONFDIR} is kept`);
}

const command = process.argv[2];
if (command === 'install') install();
else if (command === 'uninstall') uninstall();
else die('usage: node scripts/install.mjs install|uninstall (PREFIX, DESTDIR, SYSCONFDIR, ... from the environment)');
