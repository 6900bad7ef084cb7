/**
 * Where the machine's CPU went during a phase of a benchmark, from the kernel's own accounting: each thread's time
 * on a CPU and time spent runnable but waiting for one (`/proc/<pid>/task/<tid>/schedstat`, in nanoseconds), and the
 * machine's busy time (`/proc/stat`, in clock ticks). On 2 shared vCPUs, a latency's tail is mostly such waiting, and
 * these say whose it was: the server's, the benchmark's own processes', or other people's on the machine.
 */
import * as Fs from "node:fs"

/** One process's threads, grouped by role: the main thread, zeromq's I/O threads, V8's workers (the GC), the rest. */
export type ThreadGroup = "main" | "zmq" | "v8" | "other"

export interface ThreadTimes {
  /** Milliseconds on a CPU, per group. */
  readonly cpu: Readonly<Record<ThreadGroup, number>>
  /** Milliseconds runnable but waiting for a CPU (the run queue), per group. */
  readonly waiting: Readonly<Record<ThreadGroup, number>>
}

const groupOf = (name: string): ThreadGroup =>
  name === "MainThread" || name === "node" ? "main" : name.startsWith("ZMQbg") ? "zmq" : name.startsWith("V8") ? "v8" : "other"

const zero = (): Record<ThreadGroup, number> => ({ main: 0, zmq: 0, v8: 0, other: 0 })

/** A process's threads' times so far; a thread that ended before is not counted, one that ends while read is skipped. */
export const threadTimes = (pid: number): ThreadTimes => {
  const cpu = zero()
  const waiting = zero()
  for (const tid of Fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const group = groupOf(Fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, "latin1").trim())
      const [onCpu = 0, runQueue = 0] = Fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "latin1").split(" ").map(Number)
      cpu[group] += onCpu / 1e6
      waiting[group] += runQueue / 1e6
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return { cpu, waiting }
}

/** What a process's threads did between two readings. */
export const threadTimesBetween = (before: ThreadTimes, after: ThreadTimes): ThreadTimes => {
  const cpu = zero()
  const waiting = zero()
  for (const group of Object.keys(cpu) as Array<ThreadGroup>) {
    cpu[group] = after.cpu[group] - before.cpu[group]
    waiting[group] = after.waiting[group] - before.waiting[group]
  }
  return { cpu, waiting }
}

export const totalOf = (times: Readonly<Record<ThreadGroup, number>>): number => times.main + times.zmq + times.v8 + times.other

/** Milliseconds the machine's CPUs were busy (everything but idle and I/O wait), all CPUs together. */
export const machineBusyMillis = (): number => {
  const fields = (Fs.readFileSync("/proc/stat", "latin1").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLOCK_TICKS
}

/** USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`); Node has no call to read it. */
const CLOCK_TICKS = 100
