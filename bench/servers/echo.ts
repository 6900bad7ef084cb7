/**
 * The transport floor: a bare zeromq.js server that answers every request with a fixed reply of the given size.
 *   node bench/servers/echo.ts --reply-bytes 650            a Reply socket
 *   node bench/servers/echo.ts --router --reply-bytes 650   a Router socket (serves concurrent clients)
 */
import * as Zmq from "zeromq"

const flag = (name: string) => process.argv.indexOf(name)
const bytes = Number(process.argv[flag("--reply-bytes") + 1] ?? 0)
const reply = "x".repeat(Math.max(1, bytes))
const EMPTY = Buffer.alloc(0)

if (flag("--router") >= 0) {
  const router = new Zmq.Router({ linger: 0 })
  await router.bind("tcp://127.0.0.1:*")
  console.log(`READY ${router.lastEndpoint}`)
  for await (const [identity = EMPTY, delimiter = EMPTY] of router) await router.send([identity, delimiter, reply])
} else {
  const socket = new Zmq.Reply({ linger: 0 })
  await socket.bind("tcp://127.0.0.1:*")
  console.log(`READY ${socket.lastEndpoint}`)
  for await (const _ of socket) await socket.send(reply)
}
