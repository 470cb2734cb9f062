// Secrets outside connection strings and files others cannot read: the passfile option (libpq's
// format, wildcards and escapes, refused when group or others may read it), and log and pid files
// created 0640.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger, PidFile } from '@skytools/core';
import { clientConfig } from '@skytools/core/internal';

describe('passfile and file modes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skytools-passfile-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the password of the first matching passfile line', () => {
    const file = join(dir, 'pgpass');
    writeFileSync(file, ['# comment', 'other:5432:*:u:wrong', 'db1.example:5433:app:u:p\\:w\\\\1', '*:*:*:u:fallback', ''].join('\n'), { mode: 0o600 });
    assert.equal(clientConfig(`host=db1.example port=5433 dbname=app user=u passfile=${file}`).password, 'p:w\\1');
    assert.equal(clientConfig(`host=db2.example port=5433 dbname=app user=u passfile=${file}`).password, 'fallback');
    assert.equal(clientConfig(`host=db2.example dbname=app user=nobody passfile=${file}`).password, undefined);
    assert.equal(clientConfig(`host=db1.example port=5433 dbname=app user=u password=given passfile=${file}`).password, 'given', 'a password in the string wins');
  });

  it('refuses a passfile group or others may read, naming it', () => {
    const file = join(dir, 'open-pgpass');
    writeFileSync(file, '*:*:*:*:secret\n');
    chmodSync(file, 0o644);
    assert.throws(() => clientConfig(`host=h user=u passfile=${file}`), /passfile \S+open-pgpass can be read by group or others \(mode 644\); chmod 600 it/);
  });

  it('creates log and pid files 0640', async () => {
    const logfile = join(dir, 'x.log');
    const log = createLogger({ logfile });
    log.info('one line');
    await log.close();
    assert.equal(statSync(logfile).mode & 0o777, 0o640);
    const pidfile = join(dir, 'x.pid');
    const p = PidFile.claim(pidfile, 'test');
    assert.equal(statSync(pidfile).mode & 0o777, 0o640);
    p.release();
  });
});
