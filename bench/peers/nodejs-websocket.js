// The original chat: one room, every connection is userN, and every line is
// broadcast to everyone, the sender included. Usage: node nodejs-websocket.js PORT
"use strict";
const ws = require("nodejs-websocket");

const port = Number(process.argv[2] || 8001);
let count = 0;

const server = ws.createServer((conn) => {
  count += 1;
  const user = "user" + count;
  broadcast(user + " comes in");
  conn.on("text", (text) => broadcast(user + " says: " + text));
  conn.on("close", () => broadcast(user + " left"));
  conn.on("error", () => {});
});

function broadcast(text) {
  for (const conn of server.connections) {
    conn.sendText(text);
  }
}

server.listen(port, "127.0.0.1", () => console.log("listening on 127.0.0.1:" + port));
