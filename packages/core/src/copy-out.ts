/**
 * Reading rows with COPY ... TO STDOUT as text lines, pulled one at a time: the server sends no
 * faster than the caller reads (the socket's backpressure), so memory stays bounded whatever the
 * table's size.
 */
import type pg from 'pg';
import { StringDecoder } from 'node:string_decoder';
import { to as copyTo } from 'pg-copy-streams';

/** The lines (without their newline) of `copySql`, a COPY ... TO STDOUT statement in text format. */
export async function* copyOutLines(client: pg.ClientBase, copySql: string): AsyncGenerator<string, void, undefined> {
  const stream = client.query(copyTo(copySql));
  // a chunk may end inside a multi-byte character; the decoder keeps the partial bytes for the next
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      yield text.slice(start, nl);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
}
