// TxidSnapshot: the txid_snapshot text "xmin:xmax:xip,..." parsed, and whether a transaction's
// effects are in the snapshot, as PostgreSQL's txid_visible_in_snapshot() answers it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SkytoolsError, TxidSnapshot } from '@skytools/core';

describe('TxidSnapshot', () => {
  it('parses xmin, xmax and the text', () => {
    const s = TxidSnapshot.parse('10:20:10,15');
    assert.equal(s.xmin, 10n);
    assert.equal(s.xmax, 20n);
    assert.equal(s.text, '10:20:10,15');
    const t = TxidSnapshot.parse(' 7:7: \n');
    assert.deepEqual([t.xmin, t.xmax, t.text], [7n, 7n, '7:7:'], 'surrounding white space is dropped');
  });

  it('contains what committed before it: below xmin, and between xmin and xmax unless in progress', () => {
    const s = TxidSnapshot.parse('10:20:10,15');
    const visible = (t: number): boolean => s.contains(BigInt(t));
    assert.equal(visible(1), true);
    assert.equal(visible(9), true, 'just below xmin');
    assert.equal(visible(10), false, 'xmin itself, in progress');
    assert.equal(visible(11), true, 'just above xmin, not in progress');
    assert.equal(visible(14), true);
    assert.equal(visible(15), false, 'in progress');
    assert.equal(visible(16), true);
    assert.equal(visible(19), true, 'just below xmax');
    assert.equal(visible(20), false, 'xmax: not yet started when the snapshot was taken');
    assert.equal(visible(21), false, 'above xmax');
  });

  it('handles a snapshot with nothing in progress, and an xmin that is not in progress', () => {
    const idle = TxidSnapshot.parse('100:100:');
    assert.equal(idle.contains(99n), true);
    assert.equal(idle.contains(100n), false);
    // a text PostgreSQL accepts with xmin not listed in progress: xip decides, not xmin alone
    const s = TxidSnapshot.parse('100:105:');
    assert.equal(s.contains(100n), true);
    assert.equal(s.contains(104n), true);
    assert.equal(s.contains(105n), false);
  });

  it('takes txids as strings, exactly, beyond 2^53', () => {
    const s = TxidSnapshot.parse('9007199254740993:9007199254740999:9007199254740995');
    assert.equal(s.xmin, 9007199254740993n);
    assert.equal(s.contains('9007199254740992'), true);
    assert.equal(s.contains('9007199254740994'), true);
    assert.equal(s.contains('9007199254740995'), false, 'in progress, one above a float-exact neighbour');
    assert.equal(s.contains('9007199254740996'), true);
    assert.equal(s.contains(9007199254740999n), false);
  });

  it('refuses text that is not a txid_snapshot, saying what it got', () => {
    for (const bad of ['', '10:20', '10:20:1,,x', 'a:b:', '-1:5:', '10;20;', '10:20:15 16', 'txid 10:20:']) {
      assert.throws(() => TxidSnapshot.parse(bad), (err: unknown) => {
        assert.ok(err instanceof SkytoolsError, `${JSON.stringify(bad)}: a SkytoolsError, got ${String(err)}`);
        assert.equal(err.message, `invalid txid_snapshot: ${bad}`);
        return true;
      }, JSON.stringify(bad));
    }
  });
});
