import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** The port clients connect to (loopback). */
  port: number;
  /**
   * The next time a client sends bytes matching `pattern`, those bytes are dropped, every connection is cut
   * and new ones are refused until {@link heal}: the upstream "goes away" in the middle of that command.
   * Resolves when it happened.
   */
  cutOn(pattern: RegExp): Promise<void>;
  /** Cuts every connection and refuses new ones until {@link heal}: the upstream is unreachable. */
  cut(): void;
  /** Accepts connections again. */
  heal(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy in front of 127.0.0.1:`upstreamPort`, for faults a real server cannot be asked for. */
export async function startTcpProxy(upstreamPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let refusing = false;
  let trap: { pattern: RegExp; sprung: () => void } | undefined;
  const cutAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(upstreamPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (trap && trap.pattern.test(chunk.toString('latin1'))) {
        const { sprung } = trap;
        trap = undefined;
        refusing = true;
        cutAll();
        sprung();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cutOn: (pattern) => new Promise<void>((resolve) => (trap = { pattern, sprung: resolve })),
    cut: () => {
      refusing = true;
      cutAll();
    },
    heal: () => {
      refusing = false;
    },
    close: async () => {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
