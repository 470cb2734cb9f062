// The systemd units of packaging/systemd as written (docs/operations.md, "Services"): Type=notify with
// NotifyAccess=all (the daemons notify through systemd-notify, a child), reload by SIGHUP to the main
// process, SIGTERM to the main process only, the skytools user, the hardening settings, logs and runtime
// directories; the sysusers file creates that user; the logrotate snippet signals the main processes.
// (tests/packaging/install.test.ts runs systemd-analyze verify on the installed copies.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@skytools/harness';

type Unit = Map<string, Map<string, string[]>>;

/** Sections of a unit file: each key with all its values, in order (comments and blank lines dropped). */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head?.[1] !== undefined) {
      section = new Map();
      unit.set(head[1], section);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section !== undefined && eq > 0, `a key=value line inside a section: ${line}`);
    const key = line.slice(0, eq);
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1)]);
  }
  return unit;
}

const read = (f: string): string => readFileSync(join(repoRoot(), 'packaging', f), 'utf8');
const value = (u: Unit, section: string, key: string): string | undefined => u.get(section)?.get(key)?.at(-1);

const UNITS = {
  'pgqd.service': /^\/usr\/local\/bin\/pgqd --config \/etc\/skytools\/pgqd\.yaml$/,
  'londisted.service': /^\/usr\/local\/bin\/londisted --config \/etc\/skytools\/londisted\.yaml$/,
  'londiste-worker@.service': /^\/usr\/local\/bin\/londiste \/etc\/skytools\/worker\.d\/%i\.yaml worker$/,
} as const;

const HARDENING: Record<string, string> = {
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  PrivateDevices: 'yes',
  ProtectKernelTunables: 'yes',
  ProtectKernelModules: 'yes',
  ProtectControlGroups: 'yes',
  RestrictSUIDSGID: 'yes',
  CapabilityBoundingSet: '',
  RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6',
  SystemCallFilter: '@system-service',
  // a call outside the filter fails instead of killing node (libuv probes io_uring, for one)
  SystemCallErrorNumber: 'EPERM',
};

describe('systemd units (packaging/systemd)', () => {
  for (const [name, execStart] of Object.entries(UNITS)) {
    it(`${name}: notify through a child, reload by SIGHUP, stop by SIGTERM, user skytools, hardened`, () => {
      const u = parseUnit(read(join('systemd', name)));
      assert.deepEqual([...u.keys()], ['Unit', 'Service', 'Install']);
      assert.match(value(u, 'Service', 'ExecStart') ?? '', execStart);
      assert.equal(value(u, 'Service', 'Type'), 'notify');
      assert.equal(value(u, 'Service', 'NotifyAccess'), 'all', 'READY=1 comes from systemd-notify, a child of the main process');
      assert.equal(value(u, 'Service', 'ExecReload'), '/bin/kill -HUP $MAINPID');
      assert.equal(value(u, 'Service', 'KillMode'), 'mixed', 'SIGTERM to the main process only: it stops its work itself');
      assert.equal(value(u, 'Service', 'Restart'), 'on-failure');
      assert.equal(value(u, 'Service', 'User'), 'skytools');
      assert.equal(value(u, 'Service', 'Group'), 'skytools');
      assert.equal(value(u, 'Service', 'LogsDirectory'), 'skytools');
      assert.equal(value(u, 'Service', 'RuntimeDirectory'), 'skytools');
      assert.equal(value(u, 'Service', 'RuntimeDirectoryPreserve'), 'yes', 'the units share /run/skytools: one stopping must not remove it');
      assert.equal(value(u, 'Service', 'StandardOutput'), undefined, 'logs go to the journal (stderr) by default');
      for (const [k, v] of Object.entries(HARDENING)) assert.equal(value(u, 'Service', k), v, `${name}: ${k}`);
      assert.equal(value(u, 'Service', 'MemoryDenyWriteExecute'), undefined, "V8's JIT needs W+X memory");
      assert.equal(value(u, 'Install', 'WantedBy'), 'multi-user.target');
    });
  }

  it('the worker unit asserts its job file exists; pgqd pings a watchdog', () => {
    assert.equal(value(parseUnit(read('systemd/londiste-worker@.service')), 'Unit', 'AssertPathExists'), '/etc/skytools/worker.d/%i.yaml');
    assert.match(value(parseUnit(read('systemd/pgqd.service')), 'Service', 'WatchdogSec') ?? '', /^\d+s$/);
  });

  it('the sysusers file creates the skytools system user with no login shell', () => {
    const lines = read('systemd/skytools.sysusers').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /^u skytools - "[^"]+" \/var\/lib\/skytools \/usr\/sbin\/nologin$/);
  });

  it('the logrotate snippet rotates /var/log/skytools and sends SIGHUP to the main processes', () => {
    const text = read('logrotate/skytools');
    assert.match(text, /^\/var\/log\/skytools\/\*\.log \{$/m);
    assert.match(text, /^\s+create 0640 skytools skytools$/m);
    const post = /postrotate\n([\s\S]*?)\n\s*endscript/.exec(text)?.[1] ?? '';
    assert.match(post, /systemctl kill --signal=HUP --kill-whom=main pgqd\.service londisted\.service 'londiste-worker@\*\.service'/);
  });
});
