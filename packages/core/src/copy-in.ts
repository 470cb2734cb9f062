/**
 * Writing rows with COPY ... FROM STDIN: copyIn streams text chunks into one COPY statement;
 * CopyBuffer collects COPY lines into chunks of about 64 kB (one stream message each, not one per
 * row) and writes them when it holds `limit` rows or when flushed.
 */
import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';

const CHUNK = 65_536;

/** Run `copySql` (a COPY ... FROM STDIN statement) with the given text as its data. */
export async function copyIn(client: pg.ClientBase, copySql: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  await pipeline(Readable.from(chunks, { objectMode: false }), client.query(copyFrom(copySql)));
}

export class CopyBuffer {
  private chunks: string[] = [];
  private current = '';
  private rows = 0;

  /**
   * @param statement the COPY ... FROM STDIN statement, asked for at each write (it may change,
   *   as the event table of a queue does with rotation)
   */
  constructor(
    private readonly client: pg.ClientBase,
    private readonly statement: () => string | Promise<string>,
    private readonly limit = 10_000,
  ) {}

  get size(): number {
    return this.rows;
  }

  /** Add one COPY line (ending in a newline); writes everything once `limit` rows are held. */
  async add(line: string): Promise<void> {
    this.current += line;
    this.rows += 1;
    if (this.current.length >= CHUNK) {
      this.chunks.push(this.current);
      this.current = '';
    }
    if (this.rows >= this.limit) await this.flush();
  }

  /** Write what is held, in the caller's transaction. */
  async flush(): Promise<void> {
    if (this.rows === 0) return;
    if (this.current !== '') this.chunks.push(this.current);
    const chunks = this.chunks;
    this.chunks = [];
    this.current = '';
    this.rows = 0;
    await copyIn(this.client, await this.statement(), chunks);
  }

  /** Forget what is held. */
  clear(): void {
    this.chunks = [];
    this.current = '';
    this.rows = 0;
  }
}
