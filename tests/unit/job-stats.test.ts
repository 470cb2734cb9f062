// A job's lag as londisted's metrics report it: growing while events wait, frozen while the job is
// idle (nothing waits, a tick with events wakes it), growing again once a batch is taken, the
// node paused, or no tick came for minutes (a dead ticker); and errors served without
// connection strings or addresses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobStats, servedError } from '@skytools/londiste';

const node = { queue: 'q', name: 'n', type: 'leaf', provider: 'r', paused: false };

describe('job lag', () => {
  it('grows while busy, freezes while idle, grows again when a batch is taken or the node paused', () => {
    const s = new JobStats('j');
    assert.equal(s.lagSeconds(1000), null, 'no lag before the first batch');
    s.batchDone(5, '10', new Date(1000));
    assert.equal(s.lagSeconds(3000), 2);
    s.idle(3000);
    assert.equal(s.lagSeconds(60_000), 2, 'idle: the lag it caught up with');
    s.batchStarted();
    assert.equal(s.lagSeconds(60_000), 59, 'a batch stuck in its apply shows its age');
    s.batchDone(0, '11', new Date(59_500));
    s.idle(60_000);
    assert.equal(s.lagSeconds(70_000), 0.5);
    s.seenNode({ ...node, paused: true });
    assert.equal(s.lagSeconds(70_000), 10.5, 'paused: behind, not idle');
  });

  it('believes an idle lag only while ticks keep coming', () => {
    const s = new JobStats('j');
    s.batchDone(0, '1', new Date(0));
    s.idle(100);
    assert.equal(s.lagSeconds(200_000), 0.1);
    assert.equal(s.lagSeconds(400_000), 400, 'no tick for minutes: the ticker stopped');
  });

  it('errors count and clear the idle freeze', () => {
    const s = new JobStats('j');
    s.batchDone(0, '1', new Date(0));
    s.idle(100);
    s.failed("cannot connect to 'host=db1 port=5432 user=u dbname=d': connect ECONNREFUSED 10.1.2.3:5432", 1000);
    assert.equal(s.errors, 1);
    assert.equal(s.lagSeconds(1000), 1);
    assert.equal(s.lastError, "cannot connect to '(connection string)': connect ECONNREFUSED (address)");
  });

  it('serves errors without connection strings or addresses', () => {
    assert.equal(servedError('lost [::1]:5432 and 192.168.0.1'), 'lost (address) and (address)');
    assert.equal(servedError('table public.t: duplicate key'), 'table public.t: duplicate key');
  });
});
