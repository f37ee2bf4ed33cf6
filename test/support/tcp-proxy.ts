import * as net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a database, for outage tests: `cut()` drops every
 * connection and stops listening (clients get ECONNREFUSED), `restore()` listens again on the
 * same port.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  /** `targetPath`: a Unix socket to forward to instead (the embedded database listens on one). */
  constructor(private readonly targetHost: string, private readonly targetPort: number, private readonly targetPath?: string) {}

  async start(port = 0): Promise<number> {
    const server = net.createServer((client) => {
      const upstream = this.targetPath ? net.connect(this.targetPath) : net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  restore(): Promise<number> {
    return this.start(this.port);
  }
}
