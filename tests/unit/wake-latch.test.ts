// The worker's one wake-up latch: a wake-up that arrives while the loop is busy (between two
// waits) is kept for the next wait, not lost to a timeout; a wake-up during a wait ends it; a
// long run of waits on the job's abort signal leaves no listener behind on it; abort ends a wait.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { WakeLatch } from '@skytools/core';

describe('wake latch', () => {
  it('keeps a wake-up that came while nobody waited, once', async () => {
    const l = new WakeLatch();
    l.wake();
    l.wake();
    assert.equal(await l.wait(60_000), 'woken');
    // two wake-ups while busy are one: the next wait sleeps
    assert.equal(await l.wait(20), 'timeout');
  });

  it('ends a wait on wake(), and on abort', async () => {
    const l = new WakeLatch();
    const w = l.wait(60_000);
    setTimeout(() => l.wake(), 10);
    assert.equal(await w, 'woken');
    const ac = new AbortController();
    const a = l.wait(60_000, ac.signal);
    setTimeout(() => ac.abort(), 10);
    assert.equal(await a, 'aborted');
    assert.equal(await l.wait(60_000, ac.signal), 'aborted', 'an aborted signal does not wait');
  });

  it('leaves no listener on the signal after many waits', async () => {
    const l = new WakeLatch();
    const ac = new AbortController();
    for (let i = 0; i < 200; i++) {
      if (i % 2 === 0) setTimeout(() => l.wake(), 0);
      await l.wait(i % 2 === 0 ? 60_000 : 1, ac.signal);
    }
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });
});
