/**
 * The floor for a one-shot CLI: the least a Node program can do to ask `ps` over ZeroMQ and print the answer.
 * Plain JavaScript: a .ts file would pay for Node's type-stripping loader (about 60 ms here), flattering the ratio.
 *   node bench/servers/oneshot-client.mjs tcp://127.0.0.1:5570
 */
import * as Zmq from "zeromq"

const socket = new Zmq.Request({ linger: 0, receiveTimeout: 5000 })
socket.connect(process.argv[2] ?? "tcp://127.0.0.1:5570")
await socket.send(JSON.stringify({ command: "ps" }))
const [reply] = await socket.receive()
socket.close()
process.stdout.write(`${reply?.toString() ?? ""}\n`)
