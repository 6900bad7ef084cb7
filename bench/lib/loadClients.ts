/**
 * Background load as a process of its own: `clients` REQ sockets sending `body` back to back to `endpoint`.
 *   node bench/lib/loadClients.ts <endpoint> <clients> <body>
 * Prints `READY` once every socket has had one answer, and, when its stdin closes, finishes the requests it has
 * out, prints `DONE <requests answered>` and exits. Kept apart from the process that measures, so that handling
 * the load's answers never delays the measured round trips (in one process it did: the measuring socket waited
 * behind sixteen others' callbacks on the same event loop).
 */
import { connect } from "./clients.ts"

const [endpoint = "", clients = "16", body = ""] = process.argv.slice(2)
const sockets = Array.from({ length: Number(clients) }, () => connect(endpoint))
let running = true
let answered = 0

await Promise.all(sockets.map(async (socket) => {
  await socket.send(body)
  await socket.receive()
}))
process.stdin.on("end", () => {
  running = false
})
process.stdin.resume()
console.log("READY")

await Promise.all(sockets.map(async (socket) => {
  while (running) {
    await socket.send(body)
    await socket.receive()
    answered++
  }
  socket.close()
}))
console.log(`DONE ${answered}`)
process.exit(0)
