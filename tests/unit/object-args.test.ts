// Table names from the command line: plain names as typed with public. implied, SQL-quoted names
// for what plain ones cannot say (dots, quotes, spaces), and clear refusals of what londiste cannot
// store or what does not parse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseObjectArg } from '@skytools/londiste/internal';

describe('command-line object names', () => {
  it('reads plain and quoted names as londiste stores them', () => {
    assert.equal(parseObjectArg('t'), 'public.t');
    assert.equal(parseObjectArg('s.t'), 's.t');
    assert.equal(parseObjectArg('Upper.Case'), 'Upper.Case');
    assert.equal(parseObjectArg('"t.x"'), 'public.t.x');
    assert.equal(parseObjectArg('"my schema"."t.x"'), 'my schema.t.x');
    assert.equal(parseObjectArg('s."we""ird"'), 's.we"ird');
    assert.equal(parseObjectArg('"a,b=c&d%e f"'), 'public.a,b=c&d%e f');
    assert.equal(parseObjectArg('"表*?"'), 'public.表*?');
  });
  it('refuses what it cannot read or londiste cannot store, naming the argument', () => {
    assert.throws(() => parseObjectArg('"a.b"."t.x"'), /name "a\.b"\."t\.x": schema "a\.b" holds a dot, which londiste cannot store/);
    assert.throws(() => parseObjectArg('"open'), /a quoted identifier is not closed/);
    assert.throws(() => parseObjectArg('a."b"c'), /expected a dot after "b"/);
    assert.throws(() => parseObjectArg('"a"."b"."c"'), /3 parts/);
    assert.throws(() => parseObjectArg('"".t'), /an empty part/);
    assert.throws(() => parseObjectArg('a"b'), /a double quote inside an unquoted part/);
  });
});
