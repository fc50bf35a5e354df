import type { Server } from 'node:http';

/**
 * Stops accepting connections, lets in-flight requests finish (idle keep-alive sockets are closed now,
 * busy ones after their response), and after `timeoutMs` closes whatever is left.
 */
export async function closeServer(server: Server, timeoutMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  server.closeIdleConnections();
  // Keep-alive sockets that turn idle after their last response are closed too.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}

/**
 * The web's socket timeouts, for the process and for the tests' in-process apps alike. The ALB's idle timeout
 * is 60 s; keeping ours longer avoids 502s from connections it thinks are open (and a client that reuses a
 * socket the server has just closed gets ECONNRESET). Slow-body clients are bounded so they cannot hold
 * sockets and memory for ever.
 */
export function applyServerTimeouts(server: Server): Server {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  return server;
}
