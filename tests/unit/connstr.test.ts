import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskConnstr, parseConnstr, UsageError } from '@skytools/core';

describe('connection strings', () => {
  it('parses libpq key=value strings with quoting', () => {
    assert.deepEqual(parseConnstr(`host=10.0.0.1 port=1921 user=postgres dbname=digoal_01 password='a b\\'c'`), {
      host: '10.0.0.1',
      port: '1921',
      user: 'postgres',
      dbname: 'digoal_01',
      password: "a b'c",
    });
    assert.deepEqual(parseConnstr('dbname = x  host= y'), { dbname: 'x', host: 'y' });
  });

  it('parses postgres:// URLs', () => {
    assert.deepEqual(parseConnstr('postgresql://u%40x:p%2Fw@db.example:6543/my%20db?sslmode=require'), {
      host: 'db.example',
      port: '6543',
      user: 'u@x',
      password: 'p/w',
      dbname: 'my db',
      sslmode: 'require',
    });
  });

  it('rejects malformed strings with a usage error', () => {
    assert.throws(() => parseConnstr('host=x dbname'), UsageError);
    assert.throws(() => parseConnstr("password='open"), /unterminated/);
  });

  it('masks passwords the way the seed logs show them', () => {
    assert.equal(
      maskConnstr('host=172.16.3.176 port=1921 user=postgres dbname=digoal_01 password=postgres'),
      'host=172.16.3.176 port=1921 user=postgres dbname=digoal_01 [...]',
    );
    assert.equal(maskConnstr('postgres://u:secret@h/db'), 'host=h user=u dbname=db [...]');
    assert.equal(maskConnstr('host=h dbname=d'), 'host=h dbname=d');
    assert.ok(!maskConnstr("password='s3cr3t").includes('s3cr3t'));
  });
});
