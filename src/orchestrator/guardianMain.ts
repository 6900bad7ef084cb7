/**
 * The guardian: a small process that outlives its orchestrator by design, so that the orchestrator's agents never
 * do. The orchestrator starts it with a pipe on its stdin and the orchestrator's invocation prefix as its argument,
 * and tells it, one line each, the process groups of its agents as they start (`+PGID`) and end (`-PGID`).
 *
 * When the pipe closes, the orchestrator has exited, whatever the way: a clean exit, a crash, SIGKILL or the OOM
 * killer (the kernel closes a dead process's pipes). The guardian then kills every recorded group and every process
 * whose invocation marker starts with the prefix, until none is left, and exits. It needs no code of the
 * orchestrator's to run, and it ignores the signals a terminal or `kill` would send its orchestrator: it ends when
 * its orchestrator ends, and then only after the sweep.
 *
 * Bundled to dist/guardian.mjs; it imports nothing but Node's built-ins and ProcessTable.
 */
import { makeProcessTable, signal } from "./ProcessTable.ts"

/** Killed processes take a moment to leave /proc; rounds are this far apart, and a sweep stops after the last. */
const ROUND_MILLIS = 10
const MAX_ROUNDS = 200

const prefix = process.argv[2]
if (prefix === undefined || prefix === "") {
  process.stderr.write("usage: guardian <invocation prefix>\n")
  process.exit(2)
}

for (const name of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGPIPE"] as const) process.on(name, () => {})

const table = makeProcessTable()
const groups = new Set<number>()
let pending = ""
let sweeping = false

const apply = (line: string): void => {
  const pgid = Number(line.slice(1))
  if (!Number.isInteger(pgid) || pgid <= 1) return
  if (line.startsWith("+")) groups.add(pgid)
  else if (line.startsWith("-")) groups.delete(pgid)
}

const sweep = (round: number): void => {
  for (const pgid of groups) signal(-pgid, "SIGKILL")
  const marked = table.markedWith(prefix)
  for (const pid of marked) signal(pid, "SIGKILL")
  // A process forked between the scan and the kill carries the marker too: scan again until nothing is left.
  if (marked.length === 0 || round >= MAX_ROUNDS) process.exit(0)
  setTimeout(() => sweep(round + 1), ROUND_MILLIS)
}

const orchestratorGone = (): void => {
  if (sweeping) return
  sweeping = true
  sweep(1)
}

process.stdin.setEncoding("latin1")
process.stdin.on("data", (chunk: string) => {
  const lines = (pending + chunk).split("\n")
  pending = lines.pop() ?? ""
  for (const line of lines) apply(line)
})
process.stdin.on("end", orchestratorGone)
process.stdin.on("error", orchestratorGone)
// Watching from here on: the orchestrator waits for this before it starts any agent, then closes its end.
process.stdout.on("error", () => {})
process.stdout.write("ready\n")
