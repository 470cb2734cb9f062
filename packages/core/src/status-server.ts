/**
 * A daemon's read-only HTTP listener (metrics_listen): `/metrics` in Prometheus' text format,
 * `/status.json`, and `/`, a status page that renders that JSON. Only GET and HEAD; nothing it
 * serves changes anything, and what it serves names no password or connection string (the
 * callers give only names, states and numbers). Bound to what the config says; TLS and
 * authentication belong to a reverse proxy in front of it (docs/operations.md).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError } from './errors.js';
import { formatListenAddress, type ListenAddress } from './listen-address.js';
import type { Logger } from './logger.js';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text.js';

export interface StatusContent {
  /** The metrics, rendered at each scrape. */
  metrics(): string;
  /** What /status.json returns. */
  status(): unknown;
  /** The page served at `/` (self-contained HTML). */
  page: string;
}

const HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

export class StatusServer {
  private server: Server | undefined;
  private bound: ListenAddress | undefined;

  constructor(
    private readonly content: StatusContent,
    private readonly log: Logger,
  ) {}

  /** Where it listens (the port chosen when 0 was asked), or undefined when it does not. */
  get address(): ListenAddress | undefined {
    return this.bound;
  }

  /**
   * Listen at `at`, or stop listening (undefined). A reload with the same address keeps the
   * listener; a new address takes over only once it is bound (a failure keeps the old one).
   */
  async listen(at: ListenAddress | undefined): Promise<void> {
    if (at !== undefined && this.bound !== undefined && at.host === this.bound.host && (at.port === this.bound.port || at.port === 0)) return;
    if (at === undefined) {
      await this.close();
      return;
    }
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw new Error(`metrics_listen ${formatListenAddress(at)}: cannot listen there (${describeError(err)}); choose a free port or another address`, { cause: err });
    });
    server.on('error', (err) => this.log.error(`status listener: ${describeError(err)}`));
    await this.close();
    this.server = server;
    const a = server.address() as AddressInfo;
    this.bound = { host: at.host, port: a.port };
    this.log.info(`metrics and status page on http://${formatListenAddress(this.bound)}/ (/metrics, /status.json)`);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.bound = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /**
   * On a loopback address, only requests that name it (or localhost) as their Host: a web page
   * that re-points its own host name at 127.0.0.1 (DNS rebinding) must not read the status. On
   * another address, whoever chose to listen there chose who may ask.
   */
  private hostAllowed(host: string | undefined): boolean {
    const bound = this.bound;
    if (bound === undefined || !/^(127\.|::1$|localhost$)/.test(bound.host)) return true;
    const port = String(bound.port);
    return host !== undefined && [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${bound.host}:${port}`].includes(host.toLowerCase());
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.hostAllowed(req.headers.host)) {
      res.writeHead(421, { ...HEADERS, 'Content-Type': 'text/plain' }).end('misdirected request: this listener answers to its own loopback address only\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...HEADERS, Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('read-only: GET or HEAD\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    let type: string;
    let body: string;
    try {
      if (path === '/metrics') {
        type = PROMETHEUS_CONTENT_TYPE;
        body = this.content.metrics();
      } else if (path === '/status.json') {
        type = 'application/json; charset=utf-8';
        body = JSON.stringify(this.content.status());
      } else if (path === '/' || path === '/index.html') {
        type = 'text/html; charset=utf-8';
        body = this.content.page;
      } else {
        res.writeHead(404, { ...HEADERS, 'Content-Type': 'text/plain' }).end('not found: try /, /metrics or /status.json\n');
        return;
      }
    } catch (err) {
      this.log.error(`status listener: ${path ?? '/'}: ${describeError(err)}`);
      res.writeHead(500, { ...HEADERS, 'Content-Type': 'text/plain' }).end('internal error (see the log)\n');
      return;
    }
    const extra = path === '/' || path === '/index.html' ? { 'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'" } : {};
    res.writeHead(200, { ...HEADERS, ...extra, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
