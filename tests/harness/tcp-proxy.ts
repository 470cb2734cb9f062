/**
 * A TCP proxy on 127.0.0.1 in front of a server, for network faults between nodes: drop every
 * connection (reset), delay every chunk both ways for a while, or half-open the connections it
 * holds (the server side is closed, the client side stays open and hears nothing, as after a peer
 * vanished without a reset). New connections always go through.
 */
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  server: Socket;
  /** Half-opened: nothing passes any more, and the client side is never closed by us. */
  dead: boolean;
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private delayMs = 0;
  private readonly server: Server;
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', resolve);
    });
    const addr = proxy.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('proxy has no port');
    proxy.port = addr.port;
    return proxy;
  }

  private accept(client: Socket): void {
    const upstream = tcpConnect(this.targetPort, this.targetHost);
    const pair: Pair = { client, server: upstream, dead: false };
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (pair.dead) return;
        // delayed chunks keep their order: every chunk of a period waits the same time
        if (this.delayMs > 0) setTimeout(() => pair.dead || to.destroyed || to.write(chunk), this.delayMs);
        else if (!to.destroyed) to.write(chunk);
      });
      from.on('end', () => pair.dead || to.end());
    };
    forward(client, upstream);
    forward(upstream, client);
    const gone = (): void => {
      // a half-open pair ends only when its client gives up
      if (pair.dead && !client.destroyed) return;
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    for (const s of [client, upstream]) {
      s.on('error', gone);
      s.on('close', gone);
    }
  }

  /** Connections it holds that still pass data. */
  get open(): number {
    return [...this.pairs].filter((p) => !p.dead).length;
  }

  /** Every connection reset at once, both sides. */
  drop(): void {
    for (const p of this.pairs) {
      p.client.resetAndDestroy();
      p.server.resetAndDestroy();
    }
    this.pairs.clear();
  }

  /** Every chunk, both ways, waits this long until delay(0). */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /**
   * The connections held now go half-open: the server side is closed (its backend ends), the client
   * side stays open, swallows what it is sent and never answers nor closes. Only the client's own
   * timeout gets it out.
   */
  halfOpen(): void {
    for (const p of this.pairs) {
      p.dead = true;
      p.server.destroy();
    }
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.server.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
