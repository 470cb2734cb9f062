/**
 * An append-only log file that can be opened again at its path (SIGHUP after logrotate renamed it):
 * one stream for the logger, whatever file is behind it. Lines written before a reopen still land
 * in the old file (its stream is ended, not destroyed), the following ones in the new file.
 */
import { closeSync, createWriteStream, openSync, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { UsageError } from './errors.js';

// 0640: log lines name hosts, databases and tables
const MODE = 0o640;

function openAppend(path: string): WriteStream {
  let fd: number;
  try {
    // opened synchronously so that a path that cannot be written is an error now, not a lost line later
    fd = openSync(path, 'a', MODE);
  } catch (err) {
    throw new UsageError(`cannot open log file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  try {
    const stream = createWriteStream(path, { fd, flags: 'a' });
    // a full disk must not take the daemon down: the write's callback hears it (see _write)
    stream.on('error', () => undefined);
    return stream;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

export class ReopenableFile extends Writable {
  private out: WriteStream;

  constructor(private path: string) {
    super();
    this.out = openAppend(path);
  }

  get currentPath(): string {
    return this.path;
  }

  /** Open `path` (default: the same path again); throws a UsageError and keeps the old file when it cannot be opened. */
  reopen(path: string = this.path): void {
    const next = openAppend(path);
    const old = this.out;
    this.out = next;
    this.path = path;
    old.end();
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // a line that cannot be written is dropped rather than made an error of the logger: replication
    // must go on when the log volume is full, and the next reopen (logrotate) may cure it
    this.out.write(chunk, encoding, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.out.end(() => callback());
  }
}
