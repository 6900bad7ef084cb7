// A real HTTP server on a free loopback port; it reports the port once it is listening (its ready line).
import { createServer } from "node:http"

let requests = 0
const server = createServer((_request, response) => {
  requests++
  response.end(JSON.stringify({ ok: true, requests }))
})
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address()
  console.log(`api: listening on http://127.0.0.1:${port}`)
})
process.on("SIGTERM", () => {
  console.log(`api: closing after ${requests} requests`)
  server.close(() => process.exit(0))
})
