import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quoteFqname, quoteIdent, quoteLiteral, splitFqname } from '@skytools/core';

describe('identifier quoting', () => {
  it('quotes only when PostgreSQL would', () => {
    assert.equal(quoteIdent('user_info'), 'user_info');
    assert.equal(quoteIdent('UserInfo'), '"UserInfo"');
    assert.equal(quoteIdent('user'), '"user"');
    assert.equal(quoteIdent('a"b'), '"a""b"');
    assert.equal(quoteIdent('1abc'), '"1abc"');
    assert.equal(quoteIdent('with space'), '"with space"');
    assert.equal(quoteIdent('a$b'), '"a$b"');
    assert.equal(quoteIdent('德哥'), '"德哥"');
  });

  it('splits and quotes schema-qualified names, defaulting to public', () => {
    assert.deepEqual(splitFqname('digoal_01.user_info'), { schema: 'digoal_01', name: 'user_info' });
    assert.deepEqual(splitFqname('t'), { schema: 'public', name: 't' });
    assert.equal(quoteFqname('Sch.Order'), '"Sch"."Order"');
  });

  it('quotes literals, including backslashes', () => {
    assert.equal(quoteLiteral("I'm"), "'I''m'");
    assert.equal(quoteLiteral('a\\b'), "E'a\\\\b'");
  });
});
