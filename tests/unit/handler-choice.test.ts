// Handler strings in upstream's form, handler arguments from the command line, and the checks a
// handler choice passes before anything is stored (no database needed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHandler, describeHandlers, findHandler, formatHandler, parseHandler, parseHandlerArgs, shardCondition } from '@skytools/londiste/internal';

describe('table handler choices', () => {
  it('writes and reads upstream\'s handler strings, arguments urlencoded', () => {
    assert.equal(formatHandler({ name: 'vtable', args: {} }), 'vtable');
    const text = formatHandler({ name: 'applyfn', args: { func_name: 'audit.log', func_conf: 'a b&c=d' } });
    assert.equal(text, 'applyfn(func_name=audit.log&func_conf=a+b%26c%3Dd)');
    assert.deepEqual(parseHandler(text), { name: 'applyfn', args: { func_name: 'audit.log', func_conf: 'a b&c=d' } });
    // upstream also separates arguments with commas
    assert.deepEqual(parseHandler('part(hash_key=id,shard_count=4,shard_nr=0)'), { name: 'part', args: { hash_key: 'id', shard_count: '4', shard_nr: '0' } });
    assert.throws(() => parseHandler('part(hash_key=id'), /invalid handler format/);
    assert.throws(() => formatHandler({ name: 'a(b', args: {} }), /invalid handler name/);
  });

  it('reads --handler-arg KEY=VALUE, each key once', () => {
    assert.deepEqual(parseHandlerArgs(['a=1', ' b = x=y ']), { a: '1', b: 'x=y' });
    assert.throws(() => parseHandlerArgs(['a=1', 'a=2']), /--handler-arg a given twice/);
    assert.throws(() => parseHandlerArgs(['novalue']), /--handler-arg novalue: give KEY=VALUE/);
  });

  it('refuses unknown handlers and arguments, missing required ones and values not allowed', () => {
    assert.equal(checkHandler({ name: 'bulk', args: { method: '2' } }).name, 'bulk');
    assert.throws(() => checkHandler({ name: 'nosuch', args: {} }), /unknown handler nosuch/);
    assert.throws(() => checkHandler({ name: 'obfuscate', args: {} }), /handler obfuscate: column obfuscation is not implemented yet/);
    assert.throws(() => checkHandler({ name: 'nop', args: { x: '1' } }), /handler nop has no argument x \(it takes none\)/);
    assert.throws(() => checkHandler({ name: 'bulk', args: { method: '3' } }), /method=3 is not one of 0, 1, 2/);
    assert.throws(() => checkHandler({ name: 'qsplitter', args: {} }), /handler qsplitter needs queue=/);
    assert.throws(() => checkHandler({ name: 'applyfn', args: { func_name: 'x; drop table t' } }), /func_name=x; drop table t is not a function name/);
    // upstream's older name of the hash column is accepted
    assert.equal(checkHandler({ name: 'part', args: { key: 'id', shard_count: '2', shard_nr: '1' } }).name, 'part');
    assert.throws(() => checkHandler({ name: 'part', args: { hash_key: 'id', shard_count: '0', shard_nr: '0' } }), /shard_count must be at least 1/);
    assert.throws(() => checkHandler({ name: 'part', args: { hash_key: 'id', shard_count: 'x', shard_nr: '0' } }), /shard_count=x is not a whole number/);
  });

  it('quotes the hash column of part in its condition', () => {
    assert.equal(shardCondition({ hash_key: 'User Id', shard_count: '4', shard_nr: '3' }), '(hashtext(("User Id")::text) & 2147483647) % 4 = 3');
  });

  it('lists the handlers, and one with its arguments', () => {
    assert.match(describeHandlers([]), /^londiste - Default/m);
    assert.match(describeHandlers(['qsplitter']), /queue=\.\.\. \(required\): the PgQ queue on this node/);
    assert.equal(findHandler('fake_local').needsTable, false);
  });
});
