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
  const m = /^\d+$/.test(s) ? [s, undefined, s] : (/^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]\s]+):(\d+)$/.exec(s));
  const port = Number(m?.[2]);
  if (m === null || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`${key}: ${JSON.stringify(text)} is not an address to listen on: write PORT, HOST:PORT or [IPv6]:PORT (e.g. 127.0.0.1:9187)`);
  }
  return { host: m[1] ?? '127.0.0.1', port };
}

export function formatListenAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${String(a.port)}` : `${a.host}:${String(a.port)}`;
}
