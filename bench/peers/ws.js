// The same chat on the `ws` package: one room, every connection is userN,
// and every line is broadcast to everyone, the sender included.
// Usage: node ws.js PORT
"use strict";
const { WebSocketServer, WebSocket } = require("ws");

const port = Number(process.argv[2] || 8002);
let count = 0;

const server = new WebSocketServer({ host: "127.0.0.1", port }, () =>
  console.log("listening on 127.0.0.1:" + port),
);

server.on("connection", (socket) => {
  count += 1;
  const user = "user" + count;
  broadcast(user + " comes in");
  socket.on("message", (data, isBinary) => {
    if (!isBinary) broadcast(user + " says: " + data.toString());
  });
  socket.on("close", () => broadcast(user + " left"));
  socket.on("error", () => {});
});

function broadcast(text) {
  for (const client of server.clients) {
    if (client.readyState === WebSocket.OPEN) client.send(text);
  }
}
