/**
 * The HTTP floor: a bare node:http server that reads each request's body and answers it with the bytes of a file,
 * with the headers the orchestrator's HTTP interface sends with a command's answer (`content-type`,
 * `cache-control`, `content-length`; Node adds `Date`, `Connection` and `Keep-Alive` to both).
 *   node bench/servers/http-bare.ts --body-file FILE --content-type application/json --cache-control no-store
 * Prints `READY http://127.0.0.1:<port>` once it listens.
 */
import * as Fs from "node:fs"
import * as Http from "node:http"

const option = (name: string): string => {
  const value = process.argv[process.argv.indexOf(name) + 1]
  if (!process.argv.includes(name) || value === undefined) throw new Error(`http-bare.ts needs ${name}`)
  return value
}
const body = Fs.readFileSync(option("--body-file"))
const headers = {
  "cache-control": option("--cache-control"),
  "content-type": option("--content-type"),
  "content-length": body.length
}

const server = Http.createServer((request, response) => {
  request.on("data", () => undefined)
  request.once("end", () => {
    response.writeHead(200, headers)
    response.end(body)
  })
})
server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  console.log(`READY http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`)
})
