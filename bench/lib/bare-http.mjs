#!/usr/bin/env node
// The ceiling of bench/redirect.sh: a bare node:http server that answers every request with a
// fixed 307 (no lookup, no parsing of X-Forwarded-For), the most Node.js itself does per request.
//
//   node bench/lib/bare-http.mjs PORT
import * as http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const server = http.createServer((req, res) => {
  res.writeHead(307, { Location: 'https://use.web.test/login', 'Cache-Control': 'private, max-age=30', 'Content-Length': '0' });
  res.end();
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
