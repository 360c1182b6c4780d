import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A TCP forwarder in front of a real service (PostgreSQL, Redis) that a test can cut and
 * restore: a real network failure, not a mock. Cut, it drops every open connection and stops
 * listening, so new connections are refused exactly as when the service's host is down.
 */
export interface TcpProxy {
  /** The address clients should use: 127.0.0.1:<port>. */
  readonly port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const onConnection = (client: Socket) => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  };

  let server: Server = createServer(onConnection);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  const port = await listen(0);

  return {
    port,
    cut: stop,
    async restore() {
      if (server.listening) return;
      server = createServer(onConnection);
      await listen(port);
    },
    close: stop,
  };
}
