/**
 * A Prometheus-style scraper as a process of its own: `GET <url>` every `everyMillis` of the time it is switched
 * on, over one keep-alive connection, as Prometheus keeps one per target.
 *   node bench/lib/scraper.ts <url> <everyMillis>
 * Prints `READY` once a first scrape has given metrics. Each `on` line on stdin starts the clock (the first scrape
 * at once) and is answered `ON`; each `off` line stops it, keeping what was left of the interval, and is answered
 * `OFF` once no scrape is in flight. So the benchmark charges the scrapes to the rounds that asked for them, one
 * per second of their time, however long a round is. When stdin closes it prints
 * `DONE <scrapes> <median scrape µs> <bytes of the last>` and exits. Kept apart from the process that measures, so
 * that reading a scrape's answer never delays a measured round trip.
 */
import { keepAliveAgent, request } from "./httpClients.ts"
import { median } from "./stats.ts"

const [url = "", every = "1000"] = process.argv.slice(2)
const everyMillis = Number(every)
const agent = keepAliveAgent()
const durations: Array<number> = []
let bytes = 0

const scrape = async (): Promise<void> => {
  const started = performance.now()
  const reply = await request(agent, "GET", url)
  durations.push((performance.now() - started) * 1000)
  bytes = reply.body.length
  if (reply.status !== 200 || !reply.body.includes("orchestrate_agent_up")) {
    console.error(`GET ${url} answered ${reply.status} without metrics: ${reply.body.toString().slice(0, 200)}`)
    process.exit(1)
  }
}

await scrape()
durations.length = 0
console.log("READY")

let on = false
/** Milliseconds of switched-on time until the next scrape. */
let due = 0
let resumedAt = 0
let timer: NodeJS.Timeout | undefined
let inFlight: Promise<void> | undefined

const schedule = () => {
  resumedAt = performance.now()
  timer = setTimeout(fire, due)
}

const fire = () => {
  timer = undefined
  inFlight = scrape().finally(() => {
    inFlight = undefined
    due = everyMillis
    if (on) schedule()
  })
}

const switchOn = () => {
  on = true
  if (timer === undefined && inFlight === undefined) schedule()
  console.log("ON")
}

const switchOff = async () => {
  on = false
  if (timer !== undefined) {
    clearTimeout(timer)
    timer = undefined
    due = Math.max(0, due - (performance.now() - resumedAt))
  }
  await inFlight
  console.log("OFF")
}

let pending = ""
process.stdin.on("data", (chunk: Buffer) => {
  pending += chunk.toString()
  const lines = pending.split("\n")
  pending = lines.pop() ?? ""
  for (const line of lines) {
    if (line === "on") switchOn()
    else if (line === "off") void switchOff()
  }
})
process.stdin.once("end", async () => {
  await switchOff()
  console.log(`DONE ${durations.length} ${median(durations).toFixed(0)} ${bytes}`)
  process.exit(0)
})
