// The urlencoded key=value format of row events and attributes: decoding every shape it takes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { urlDecode, urlEncode } from '@skytools/core';

describe('urlencoded rows', () => {
  it('decodes values, NULLs, spaces, escapes and multi-byte text', () => {
    assert.deepEqual(urlDecode('id=1&name=d%c3%a9j%c3%a0&gone&empty=&eq=a%3db&sp=%2b+x'), {
      id: '1', name: 'déjà', gone: null, empty: '', eq: 'a=b', sp: '+ x',
    });
    assert.deepEqual(urlDecode('cnname=%e5%be%b7%e5%93%a5&ts=2012-05-30+21%3a37%3a57'), { cnname: '德哥', ts: '2012-05-30 21:37:57' });
    assert.deepEqual(urlDecode(''), {});
    assert.deepEqual(urlDecode(null), {});
    assert.deepEqual(urlDecode('a=1&&b=2&'), { a: '1', b: '2' });
    assert.deepEqual(urlDecode('odd%20key=v'), { 'odd key': 'v' });
  });

  it('gives the same result with a key cache, and fills it', () => {
    const keys = new Map<string, string>();
    const text = 'odd%20key=1&plain=x+y';
    assert.deepEqual(urlDecode(text, keys), urlDecode(text));
    assert.deepEqual(urlDecode(text, keys), { 'odd key': '1', plain: 'x y' });
    assert.equal(keys.get('odd%20key'), 'odd key');
  });

  it('round-trips what it encodes', () => {
    const row = { a: 'x y&z=1', b: null, 'c d': '德哥 ~%', e: '' };
    assert.deepEqual(urlDecode(urlEncode(row)), row);
  });
});
