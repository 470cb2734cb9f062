/**
 * The address of a daemon's HTTP listener (metrics_listen): `PORT`, `HOST:PORT` or `[IPv6]:PORT`.
 * A bare port binds the loopback interface only: metrics and the status page name hosts,
 * databases and tables, and are not meant for the network unless someone says so.
 */
import { UsageError } from './errors.js';

export interface ListenAddress {
  host: string;
  /** 0: any free port (the bound one is logged). */
  port: number;
}

export function parseListenAddress(text: string, key = 'metrics_listen'): ListenAddress {
  const s = text.trim();
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+))?:?(\d{1,5})$/.exec(s);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  // "9187" alone, or a host with a colon before the port
  const shaped = m !== null && (host === undefined ? /^\d+$/.test(s) : s.endsWith(`:${m[3] ?? ''}`));
  if (!shaped || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`${key}: ${JSON.stringify(text)} is not an address to listen on: write PORT, HOST:PORT or [IPv6]:PORT (e.g. 127.0.0.1:9187)`);
  }
  return { host: host ?? '127.0.0.1', port };
}

export function formatListenAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${String(a.port)}` : `${a.host}:${String(a.port)}`;
}
