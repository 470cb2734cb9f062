/**
 * Writing rows with COPY ... FROM STDIN: copyIn streams text chunks into one COPY statement.
 */
import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';

/** Run `copySql` (a COPY ... FROM STDIN statement) with the given text as its data. */
export async function copyIn(client: pg.ClientBase, copySql: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  await pipeline(Readable.from(chunks, { objectMode: false }), client.query(copyFrom(copySql)));
}
