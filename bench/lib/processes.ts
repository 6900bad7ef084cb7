/**
 * Starts benchmark servers as child processes: each prints `READY <endpoint>` once it listens.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const benchDir = Path.dirname(Path.dirname(fileURLToPath(import.meta.url)))
export const projectDir = Path.dirname(benchDir)

export interface Server {
  readonly endpoint: string
  readonly pid: number
  readonly stop: () => Promise<void>
}

const children = new Set<ChildProcess>()
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL")
})

export const startServer = (script: string, args: ReadonlyArray<string> = []): Promise<Server> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [Path.join(benchDir, "servers", script), ...args], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    children.add(child)
    let buffered = ""
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString()
      const match = /READY (\S+)/.exec(buffered)
      if (match?.[1] === undefined) return
      child.stdout?.off("data", onData)
      child.stdout?.resume()
      resolve({
        endpoint: match[1],
        pid: child.pid ?? -1,
        stop: () =>
          new Promise((done) => {
            children.delete(child)
            if (child.exitCode !== null) return done()
            child.once("exit", () => done())
            child.kill("SIGTERM")
          })
      })
    }
    child.stdout?.on("data", onData)
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}) before it was ready: ${buffered}`)))
  })

/**
 * Background load from a process of its own (`loadClients.ts`): `clients` sockets sending `body` back to back.
 * `stop` ends it and gives the number of requests it had answered.
 */
export const startLoad = (endpoint: string, clients: number, body: string): Promise<{ readonly stop: () => Promise<number> }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [Path.join(benchDir, "lib", "loadClients.ts"), endpoint, String(clients), body], {
      stdio: ["pipe", "pipe", "inherit"]
    })
    children.add(child)
    let output = ""
    let ready = false
    const done = new Promise<number>((settle) => {
      child.once("exit", () => {
        children.delete(child)
        settle(Number(/DONE (\d+)/.exec(output)?.[1] ?? Number.NaN))
      })
    })
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (ready || !output.includes("READY")) return
      ready = true
      resolve({
        stop: () => {
          child.stdin?.end()
          return done
        }
      })
    })
    child.once("exit", (code) => {
      if (!ready) reject(new Error(`loadClients.ts exited (${code}) before it was ready: ${output}`))
    })
  })

/** The resident set size of a process, in MiB. */
export const rssMiB = (pid: number): number => {
  const status = Fs.readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN)
  return kb / 1024
}
