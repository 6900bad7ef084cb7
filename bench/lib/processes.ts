/**
 * The benchmarks' child processes: servers that print `READY <endpoint>` once they listen, background load, a
 * Prometheus-style scraper, and what /proc says about a process's memory. Every child is killed if the benchmark
 * exits first.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const benchDir = Path.dirname(Path.dirname(fileURLToPath(import.meta.url)))
export const projectDir = Path.dirname(benchDir)

export interface Server {
  readonly endpoint: string
  /** The HTTP interface's URL, for a server that prints one after its endpoint (`command-interface.ts --http`). */
  readonly http: string | undefined
  readonly pid: number
  readonly stop: () => Promise<void>
}

const children = new Set<ChildProcess>()
// A benchmark that throws must not leave a server or an orchestrator behind (whose guardian then stops its agents).
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL")
})

/** Kills `child` if this process exits while it still runs. */
export const killOnExit = <C extends ChildProcess>(child: C): C => {
  children.add(child)
  child.once("exit", () => children.delete(child))
  return child
}

/** Resolves with a process's exit code (null when a signal ended it), at once if it has already exited. */
export const exitOf = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once("exit", (code) => resolve(code)))

export const startServer = (script: string, args: ReadonlyArray<string> = []): Promise<Server> =>
  new Promise((resolve, reject) => {
    const child = killOnExit(spawn(process.execPath, [Path.join(benchDir, "servers", script), ...args], {
      stdio: ["ignore", "pipe", "inherit"]
    }))
    let buffered = ""
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString()
      // The whole line: a chunk may end inside it.
      const match = /READY (\S+)(?: (\S+))?\n/.exec(buffered)
      if (match?.[1] === undefined) return
      child.stdout?.off("data", onData)
      child.stdout?.resume()
      resolve({
        endpoint: match[1],
        http: match[2],
        pid: child.pid ?? -1,
        stop: async () => {
          child.kill("SIGTERM")
          await exitOf(child)
        }
      })
    }
    child.stdout?.on("data", onData)
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}) before it was ready: ${buffered}`)))
  })

/**
 * Background load from a process of its own (`loadClients.ts`): `clients` sockets sending `body` back to back.
 * `stop` ends it and gives the number of requests it had answered.
 */
export const startLoad = (endpoint: string, clients: number, body: string): Promise<{ readonly pid: number; readonly stop: () => Promise<number> }> =>
  new Promise((resolve, reject) => {
    const child = killOnExit(spawn(process.execPath, [Path.join(benchDir, "lib", "loadClients.ts"), endpoint, String(clients), body], {
      stdio: ["pipe", "pipe", "inherit"]
    }))
    let output = ""
    let ready = false
    const done = exitOf(child).then(() => Number(/DONE (\d+)/.exec(output)?.[1] ?? Number.NaN))
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (ready || !output.includes("READY")) return
      ready = true
      resolve({
        pid: child.pid ?? -1,
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

export interface ProcessMemory {
  readonly rssMiB: number
  /** Private and shared anonymous memory: the heaps (V8's and malloc's), stacks. */
  readonly anonymousMiB: number
  /** Mapped files: the Node binary's and libraries' pages it has touched. */
  readonly fileMiB: number
}

/** A process's memory as /proc/<pid>/smaps_rollup sums it. */
export const memoryOf = (pid: number): ProcessMemory => {
  const text = Fs.readFileSync(`/proc/${pid}/smaps_rollup`, "latin1")
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN)
  const rss = kib("Rss")
  const anonymous = kib("Anonymous")
  return { rssMiB: rss / 1024, anonymousMiB: anonymous / 1024, fileMiB: (rss - anonymous) / 1024 }
}

export interface Scraper {
  /** Starts scraping (the first scrape at once); resolves once the scraper has started its clock. */
  readonly on: () => Promise<void>
  /** Stops scraping; resolves once no scrape is in flight. */
  readonly off: () => Promise<void>
  /** Ends it: how many scrapes it made while on, their median duration and the last one's size. */
  readonly stop: () => Promise<{ readonly scrapes: number; readonly medianMicros: number; readonly bytes: number }>
}

/** A Prometheus-style scraper of `url` from a process of its own (`scraper.ts`), once every `everyMillis` it is on. */
export const startScraper = (url: string, everyMillis: number): Promise<Scraper> =>
  new Promise((resolve, reject) => {
    const child = killOnExit(spawn(process.execPath, [Path.join(benchDir, "lib", "scraper.ts"), url, String(everyMillis)], {
      stdio: ["pipe", "pipe", "inherit"]
    }))
    const exited = exitOf(child)
    let output = ""
    let waiter: { readonly line: string; readonly done: () => void } | undefined
    const died = exited.then((code) => Promise.reject(new Error(`scraper.ts exited (${code}): ${output}`)))
    died.catch(() => undefined)
    /** Resolves when the scraper prints `line`, counting from the last line waited for; rejects if it exits first. */
    const lineFrom = (line: string) =>
      Promise.race([
        new Promise<void>((done) => {
          waiter = { line, done }
          check()
        }),
        died
      ])
    const check = () => {
      const lines = output.split("\n")
      if (waiter === undefined || !lines.slice(0, -1).includes(waiter.line)) return
      output = lines.slice(lines.indexOf(waiter.line) + 1).join("\n")
      const { done } = waiter
      waiter = undefined
      done()
    }
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      check()
    })
    const command = (line: "on" | "off", answer: string) => () => {
      child.stdin?.write(`${line}\n`)
      return lineFrom(answer)
    }
    lineFrom("READY").then(() =>
      resolve({
        on: command("on", "ON"),
        off: command("off", "OFF"),
        stop: async () => {
          child.stdin?.end()
          const code = await exited
          const [, scrapes, medianMicros, bytes] = /DONE (\d+) (\S+) (\d+)/.exec(output) ?? []
          if (code !== 0 || scrapes === undefined) throw new Error(`scraper.ts exited (${code}): ${output}`)
          return { scrapes: Number(scrapes), medianMicros: Number(medianMicros), bytes: Number(bytes) }
        }
      }), reject)
  })
