// Upstream .ini files: the reader (ConfigParser syntax, Skytools defaults, both interpolation
// styles), the dropped and refused upstream keys, and import-ini's YAML loading back to the same
// job as the .ini (the seed's job files, written as the blog writes them).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { iniSection, iniToYaml, parseIni, writeNewFile } from '@skytools/core';
import { JOB_INI, JOB_SPEC, loadJobConfig } from '@skytools/londiste';
import { loadPgqdConfig, PGQD_INI, PGQD_SPEC } from '@skytools/pgqd';

const dir = mkdtempSync(join(tmpdir(), 'ini-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

// the seed's files, trailing blanks included as the blog prints them
const SEED_JOBS: Record<string, string> = {
  src_digoal_01: `[londiste3]  \njob_name = src_digoal_01  \ndb = host=172.16.3.176 port=1921 user=postgres dbname=digoal_01 password=postgres  \nqueue_name = replika  \nlogfile = /home/postgres/londiste3/log/src_digoal_01.log  \npidfile = /home/postgres/londiste3/pid/src_digoal_01.pid  \n`,
  dst1_digoal_01: `[londiste3]\njob_name = dst1_digoal_01\ndb = host=172.16.3.33 port=1919 user=postgres dbname=digoal_01 password=postgres\nqueue_name = replika\nlogfile = /home/postgres/londiste3/log/%(job_name)s.log\npidfile = /home/postgres/londiste3/pid/%(job_name)s.pid\n`,
  dst2_digoal_02: `# Londiste 3.x names its section [londiste]\n[DEFAULT]\nbase = /home/postgres/londiste3\n\n[londiste]\ndb = host=172.16.3.33 port=1919 user=postgres dbname=digoal_02 password=postgres\nqueue_name = replika\nlogfile = %(base)s/log/%(job_name)s.log\npidfile = %(base)s/pid/%(job_name)s.pid\nparallel_copies = 4\nloop_delay = 0.5\nlock_timeout = 2.5\n`,
};

describe('upstream .ini files', () => {
  it('reads ConfigParser syntax: sections, DEFAULT, both separators, comments, continuation lines, case-insensitive keys', () => {
    const doc = parseIni('; comment\n[DEFAULT]\nshared = 1\n\n[pgqd]\nA_Key: some value\n# comment\nlong = first\n  second\nempty =\n', 'x.ini');
    const { service, values } = iniSection(doc, ['pgqd']);
    assert.equal(service, 'pgqd');
    assert.deepEqual(values, { shared: '1', a_key: 'some value', long: 'first\nsecond', empty: '' });
  });

  it('interpolates %(key)s from the section, DEFAULT and Skytools defaults; ${key} and ${section:key} under config_format = 2', () => {
    const f = write('myjob.ini', '[londiste]\nlogfile = %(config_dir)s/%(job_name)s-%(service_name)s-%(host_name)s.log\npct = 100%%\n');
    const a = iniSection(parseIni(readFileSync(f, 'utf8'), f), ['londiste']);
    assert.equal(a.values['logfile'], `${dir}/myjob-londiste-${hostname()}.log`);
    assert.equal(a.values['pct'], '100%');
    const g = write('ext.ini', '[paths]\nroot = /srv\n\n[pgqd]\nconfig_format = 2\nlogfile = ${paths:root}/${name}.log\nname = pgqd\ncost = $$5\n');
    const b = iniSection(parseIni(readFileSync(g, 'utf8'), g), ['pgqd']);
    assert.deepEqual(b.values, { logfile: '/srv/pgqd.log', name: 'pgqd', cost: '$5' });
  });

  it('says what is wrong with a broken file, naming file and line or key', () => {
    assert.throws(() => parseIni('key = 1\n', 'a.ini'), /a\.ini:1: key "key" before any \[section\]/);
    assert.throws(() => parseIni('[pgqd]\nno separator here\n', 'b.ini'), /b\.ini:2: expected \[section\] or key = value/);
    assert.throws(() => parseIni('[pgqd]\na = 1\na = 2\n', 'c.ini'), /c\.ini:3: key "a" set twice/);
    assert.throws(() => iniSection(parseIni('[other]\na = 1\n', 'd.ini'), ['londiste', 'londiste3']), /d\.ini: no \[londiste\] or \[londiste3\] section \(sections: \[other\]\)/);
    assert.throws(() => iniSection(parseIni('[pgqd]\na = %(missing)s\n', 'e.ini'), ['pgqd']), /e\.ini: \[pgqd\] refers to missing, which is not set/);
    assert.throws(() => iniSection(parseIni('[pgqd]\na = %(b)s\nb = %(a)s\n', 'f.ini'), ['pgqd']), /nests deeper than 10 levels/);
  });

  it('drops upstream keys without effect with one warning each, and refuses those that change what is replicated', () => {
    const f = write('j.ini', '[londiste]\ndb = dbname=x\nqueue_name = q\nuse_skylog = 1\npgq_lazy_fetch = 300\npgq_autocommit = 1\n');
    const warnings: string[] = [];
    const job = loadJobConfig(f, (m) => warnings.push(m));
    assert.equal(job.job_name, 'j');
    assert.equal(job.queue_name, 'q');
    assert.deepEqual(warnings.map((w) => w.replace(/ has no effect.*/, '')), [`${f}: [londiste] use_skylog`, `${f}: [londiste] pgq_lazy_fetch`, `${f}: [londiste] pgq_autocommit`]);
    for (const key of ['handler_modules', 'register_only_tables', 'local_only', 'pgq_keep_lag', 'consumer_name']) {
      const g = write('r.ini', `[londiste]\ndb = dbname=x\nqueue_name = q\n${key} = something\n`);
      assert.throws(() => loadJobConfig(g), new RegExp(`r\\.ini: \\[londiste\\] ${key} is not supported: .*; remove it from the file`));
    }
    const h = write('u.ini', '[londiste]\ndb = dbname=x\nqueue_name = q\nqueue_nmae = typo\n');
    assert.throws(() => loadJobConfig(h), /u\.ini: unknown key "queue_nmae"/);
    const p = write('pgqd.ini', '[pgqd]\nbase_connstr = host=127.0.0.1\nsyslog = 1\nticker_period = 1\nmaint_period = 120\n');
    const pw: string[] = [];
    const cfg = loadPgqdConfig(p, (m) => pw.push(m));
    assert.equal(cfg.ticker_period, 1000, 'a number in an .ini file is seconds, as upstream');
    assert.equal(cfg.maint_period, 120_000);
    assert.equal(pw.length, 1);
    assert.match(pw[0] ?? '', /syslog has no effect here/);
  });

  it("import-ini turns the seed's job files into YAML that loads to the same job", () => {
    for (const [name, text] of Object.entries(SEED_JOBS)) {
      const ini = write(`${name}.ini`, text);
      const fromIni = loadJobConfig(ini);
      const yamlFile = join(dir, `${name}.yaml`);
      writeNewFile(yamlFile, iniToYaml(ini, JOB_SPEC, JOB_INI, { hidePasswords: false }));
      assert.equal(statSync(yamlFile).mode & 0o777, 0o600, 'the YAML may hold passwords: owner only');
      const fromYaml = loadJobConfig(yamlFile);
      assert.deepEqual({ ...fromYaml, file: '' }, { ...fromIni, file: '' }, `${name}: the YAML and the .ini load to the same job`);
      assert.equal(fromIni.job_name, name);
      assert.equal(fromIni.logfile, `/home/postgres/londiste3/log/${name}.log`);
      const shown = iniToYaml(ini, JOB_SPEC, JOB_INI, { hidePasswords: true });
      assert.doesNotMatch(shown, /password=postgres/, 'printed YAML leaves passwords out');
      assert.match(shown, /passwords are left out here/);
    }
    assert.throws(() => writeNewFile(join(dir, 'src_digoal_01.yaml'), 'x'), /exists already/);
    const pgqd = write('seed-pgqd.ini', '[pgqd]  \nbase_connstr = host=172.16.3.176 port=1921 user=postgres password=postgres  \ninitial_database = template1  \nlogfile = /home/postgres/londiste3/log/pgqd.log  \npidfile = /home/postgres/londiste3/pid/pgqd.pid  \n');
    const pgqdYaml = join(dir, 'seed-pgqd.yaml');
    writeNewFile(pgqdYaml, iniToYaml(pgqd, PGQD_SPEC, PGQD_INI, { hidePasswords: false }));
    assert.deepEqual(loadPgqdConfig(pgqdYaml), loadPgqdConfig(pgqd));
  });
});
