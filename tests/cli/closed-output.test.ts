// londiste's output read by a program that stops early (`londiste ... | head`): the writes that
// fail with EPIPE are dropped, and the command ends as it would have, without a stack trace.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runLondisteIntoClosedPipe } from './run-londiste.js';

describe('londiste writing into a closed pipe', () => {
  it('--ini (a sample job file of many lines) exits 0 and says nothing on stderr', async () => {
    const r = await runLondisteIntoClosedPipe(['--ini']);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
  });
});
