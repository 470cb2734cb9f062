/**
 * Cuts a connection whose server stopped answering: while a query is waiting for its answer and
 * nothing has arrived for `timeoutMs`, the socket is destroyed, so the query fails ("Connection
 * terminated") instead of waiting for ever. A peer that vanished without a reset (a half-open
 * connection: a dead host, a partition, a proxy or NAT that dropped the flow) is otherwise only
 * noticed by TCP keepalives, which a middlebox may answer itself, and Node cannot shorten their
 * probe interval. An idle connection is never cut: it waits for nothing.
 */
import type { Duplex } from 'node:stream';
import type pg from 'pg';

/** pg 8 keeps the query on the wire in a private field; reading it here keeps that in one place. */
function activeQuery(client: pg.Client): unknown {
  const c = client as unknown as { _getActiveQuery?: () => unknown; _activeQuery?: unknown };
  return c._getActiveQuery?.() ?? c._activeQuery ?? null;
}

/** Watch `client` until it ends; `onStall` is told before the socket is destroyed. */
export function guardStalls(client: pg.Client, timeoutMs: number, onStall: (waitedMs: number) => void): void {
  const socket = client.connection.stream as Duplex & { bytesRead?: number };
  let lastData = Date.now();
  let bytesRead = socket.bytesRead ?? 0;
  let watched: unknown = null;
  // progress is read from the byte count: a 'data' listener of our own would upset COPY TO
  // streams, which take the socket's data over from the driver
  const timer = setInterval(() => {
    if ((socket.bytesRead ?? 0) !== bytesRead) {
      bytesRead = socket.bytesRead ?? 0;
      lastData = Date.now();
    }
    const q = activeQuery(client);
    if (q === null || q === undefined) {
      watched = null;
      return;
    }
    const now = Date.now();
    if (q !== watched) {
      // a new query: its wait starts now, not at the last answer the idle connection had
      watched = q;
      lastData = Math.max(lastData, now - Math.min(1000, timeoutMs));
      return;
    }
    if (now - lastData >= timeoutMs) {
      clearInterval(timer);
      onStall(now - lastData);
      socket.destroy();
    }
  }, Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4))));
  timer.unref();
  socket.once('close', () => clearInterval(timer));
}
