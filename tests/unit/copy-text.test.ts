// COPY text format: what must be escaped and what must not, checked against the format's rules
// (backslash, tab, newline and carriage return escaped; \N for NULL; everything else as is).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyField, copyLine, decodeCopyField } from '@skytools/core';

describe('COPY text encoding', () => {
  it('escapes exactly backslash, tab, newline and carriage return', () => {
    assert.equal(copyField('plain text, 德哥 ; "quoted"'), 'plain text, 德哥 ; "quoted"');
    assert.equal(copyField('a\\b'), 'a\\\\b');
    assert.equal(copyField('a\tb\nc\rd'), 'a\\tb\\nc\\rd');
    assert.equal(copyField('\\N'), '\\\\N', 'the text \\N is not NULL');
    assert.equal(copyField(''), '');
  });

  it('writes NULL as \\N and ends a line with a newline', () => {
    assert.equal(copyField(null), '\\N');
    assert.equal(copyField(undefined), '\\N');
    assert.equal(copyLine(['1', null, 'x\ty', '']), '1\t\\N\tx\\ty\t\n');
  });

  it('round-trips any text through the escapes', () => {
    const unescape = (f: string): string => f.replace(/\\(.)/g, (_m, c: string) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' })[c] ?? c);
    for (let i = 0; i < 2000; i++) {
      const s = Array.from({ length: i % 17 }, (_, k) => String.fromCharCode([9, 10, 13, 92, 78, 65, 0x5fb7][(i * 7 + k * 3) % 7] ?? 32)).join('');
      const f = copyField(s);
      assert.ok(!/[\t\n\r]/.test(f), `no raw separators in ${JSON.stringify(f)}`);
      assert.equal(unescape(f), s);
    }
  });

  it('decodes what it encodes, and the escapes COPY TO may write', () => {
    for (const v of ['plain', 'a\\b', 'tab\there', 'line\nbreak\r', '\\N', '德哥\t😀', '']) assert.equal(decodeCopyField(copyField(v)), v);
    assert.equal(decodeCopyField('\\N'), null);
    assert.equal(decodeCopyField('\\b\\f\\v'), '\b\f\v');
    assert.equal(decodeCopyField('\\101\\x42'), 'AB');
  });
});
