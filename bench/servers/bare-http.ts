import { createServer } from 'node:http';

// Baseline: the least a Node HTTP server can do for GET with a small JSON body.
const body = JSON.stringify({ hello: 'world', ok: true });
createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
