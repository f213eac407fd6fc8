// A local stand-in for a city's release location: serves files from memory over http on
// 127.0.0.1 and counts the requests (the extension accepts plain http only for loopback).
"use strict";
const http = require("http");

/** Starts a server; `files` maps a path (`/paraaf`) to a Buffer/string or `{ redirect }`. */
function releaseServer(files) {
  const server = http.createServer((req, res) => {
    server.requests.push(req.url);
    const f = files[req.url];
    if (f === undefined) {
      res.writeHead(404).end("not found");
    } else if (f && f.redirect) {
      res.writeHead(302, { location: f.redirect }).end();
    } else {
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(f);
    }
  });
  server.requests = [];
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      server.base = `http://127.0.0.1:${server.address().port}`;
      resolve(server);
    })
  );
}

module.exports = { releaseServer };
