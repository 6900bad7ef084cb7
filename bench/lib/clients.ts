/**
 * The benchmark clients: plain zeromq.js REQ sockets, the same for the baseline servers and the real one.
 */
import * as Zmq from "zeromq"

export const connect = (endpoint: string): Zmq.Request => {
  const socket = new Zmq.Request({ linger: 0, receiveTimeout: 30_000 })
  socket.connect(endpoint)
  return socket
}

/**
 * Sends `count` requests one after another; returns each round trip in microseconds, and the last reply. A
 * function makes each request's frames when it is sent (a signed request), inside the timed round trip.
 */
export const sequential = async (socket: Zmq.Request, body: string | (() => Array<string>), count: number) => {
  const times = new Array<number>(count)
  let last: Buffer | undefined
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint()
    await socket.send(typeof body === "string" ? body : body())
    ;[last] = await socket.receive()
    times[i] = Number(process.hrtime.bigint() - started) / 1000
  }
  return { times, last }
}

/** Runs `clients` sockets in parallel for `millis`, each sending requests back to back; returns requests per second. */
export const throughput = async (endpoint: string, body: string, clients: number, millis: number): Promise<number> => {
  const sockets = Array.from({ length: clients }, () => connect(endpoint))
  // Warm up each connection before the clock starts.
  await Promise.all(sockets.map(async (socket) => {
    await socket.send(body)
    await socket.receive()
  }))
  const deadline = performance.now() + millis
  const counts = await Promise.all(sockets.map(async (socket) => {
    let done = 0
    while (performance.now() < deadline) {
      await socket.send(body)
      await socket.receive()
      done++
    }
    return done
  }))
  for (const socket of sockets) socket.close()
  return counts.reduce((total, count) => total + count, 0) / (millis / 1000)
}
