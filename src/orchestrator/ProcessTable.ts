/**
 * The machine's processes as Linux's `/proc` shows them: enough to find every process an agent's run started,
 * including those that left its process group (`setsid`) or were re-parented when their parent died.
 *
 * Each run's processes carry an invocation marker, `ORCHESTRATE_INVOCATION=<orchestrator>:<agent>:<run>`, in
 * their environment, inherited by everything they start (the idea of systemd's `$INVOCATION_ID`). The marker
 * survives re-parenting and new sessions, which the parent chain and the process group do not; only a process
 * that clears its own environment and leaves the group escapes it.
 *
 * Reading /proc costs about 35 µs a process (measured: 3.3 ms for 90 processes, stat and environ), so a table keeps what cannot
 * change: a process's marker, read once per process (a pid and its start time name one process for good); and
 * stops that run at once (an orchestrator shutting down) share one scan of the rest. The reads are synchronous
 * and happen only while runs stop and, for resource usage, at most once a second (ResourceUsage.ts), never per
 * request. No dependencies: the guardian process runs this too.
 */
import * as Fs from "node:fs"

/** The environment variable that marks an agent run's processes. */
export const INVOCATION_VARIABLE = "ORCHESTRATE_INVOCATION"

/** How long a scan serves the stops that ask for one: they run together, and a fork since is found next time. */
const SCAN_REUSE_MILLIS = 5

interface ProcessEntry {
  readonly pid: number
  readonly state: string
  readonly ppid: number
  readonly pgid: number
  /** Field 22: with the pid, it tells one process from a later one that reuses its pid. */
  readonly startTime: string
  /** Fields 14 and 15, utime + stime: the CPU time it has used, in clock ticks. */
  readonly cpuTicks: number
  /** Field 24: its resident set, in pages. */
  readonly rssPages: number
}

/** A stat line is under 1 KiB; one buffer serves every (synchronous) read, a third cheaper than readFileSync. */
const statBuffer = Buffer.alloc(4096)

const readStat = (pid: number): ProcessEntry | undefined => {
  let text: string
  try {
    const fd = Fs.openSync(`/proc/${pid}/stat`, "r")
    try {
      text = statBuffer.toString("latin1", 0, Fs.readSync(fd, statBuffer, 0, statBuffer.length, 0))
    } finally {
      Fs.closeSync(fd)
    }
  } catch {
    return undefined
  }
  // The command name, in parentheses, may contain spaces and parentheses: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
  return {
    pid,
    state: fields[0] ?? "",
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTime: fields[19] ?? "",
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    rssPages: Number(fields[21])
  }
}

/** A zombie (`Z`) has exited and only waits to be reaped, which in a container without an init may be never. */
const isLive = (entry: ProcessEntry | undefined): entry is ProcessEntry =>
  entry !== undefined && entry.state !== "Z" && entry.state !== "X"

export const isGone = (pid: number): boolean => !isLive(readStat(pid))

const pids = (): ReadonlyArray<number> => {
  try {
    return Fs.readdirSync("/proc").flatMap((entry) => /^\d+$/.test(entry) ? [Number(entry)] : [])
  } catch {
    return []
  }
}

const MARKER_ENTRY = `\0${INVOCATION_VARIABLE}=`

/** The invocation marker in a process's environment, if it has one. */
const readMarker = (pid: number): string | undefined => {
  let environ: string
  try {
    environ = `\0${Fs.readFileSync(`/proc/${pid}/environ`, "latin1")}`
  } catch {
    return undefined
  }
  const at = environ.indexOf(MARKER_ENTRY)
  if (at === -1) return undefined
  const end = environ.indexOf("\0", at + MARKER_ENTRY.length)
  return environ.slice(at + MARKER_ENTRY.length, end === -1 ? undefined : end)
}

interface Scanned extends ProcessEntry {
  readonly marker: string | undefined
}

/** A process of a run, with its process group: whether a signal to the group already reaches it. */
export interface Member {
  readonly pid: number
  readonly pgid: number
}

export interface Run {
  readonly leader: number
  readonly invocation: string
  /**
   * When the leader exited (clock ticks since boot, as /proc counts process start times), if it has. From then on
   * its pid may be reused: a process with that pid, or in a group of that id, is the run's only if it started
   * before the leader exited (or carries the run's marker).
   */
  readonly leaderExitedAt?: number | undefined
}

/**
 * Linux reports process start times and CPU times in USER_HZ ticks, which is 100 on every architecture Node runs
 * on (the kernel's HZ may differ; USER_HZ is fixed for the ABI).
 */
export const TICKS_PER_SECOND = 100

/** Now, in clock ticks since boot. */
export const ticksNow = (): number => {
  try {
    return Number(Fs.readFileSync("/proc/uptime", "latin1").split(" ")[0]) * TICKS_PER_SECOND
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

/** A process of a run with what it has used: CPU time and resident memory. */
export interface ProcessUsage {
  readonly pid: number
  /** When it started, in clock ticks since boot: with the pid, it names one process for good. */
  readonly startTicks: number
  readonly cpuTicks: number
  readonly rssPages: number
}

export interface ProcessTable {
  /** The live processes of a run: its leader, its process group, the leader's descendants, and the marked. */
  readonly membersOf: (run: Run) => ReadonlyArray<Member>
  /** The live processes whose marker starts with `prefix`: every run of one orchestrator. */
  readonly markedWith: (prefix: string) => ReadonlyArray<number>
  /**
   * The processes of each run, as `membersOf` finds them, with their CPU time and memory: one scan for all the
   * runs (and no second look at each process, so one that exited a moment ago may still be listed).
   */
  readonly usageOf: (runs: ReadonlyArray<Run>) => ReadonlyArray<ReadonlyArray<ProcessUsage>>
}

/** A scan's processes by pid, by process group and by marker, and each one's children. */
interface ScanIndex {
  readonly byPid: ReadonlyMap<number, Scanned>
  readonly byGroup: ReadonlyMap<number, ReadonlyArray<Scanned>>
  readonly byMarker: ReadonlyMap<string, ReadonlyArray<Scanned>>
  readonly children: ReadonlyMap<number, ReadonlyArray<number>>
}

const push = <K, V>(map: Map<K, Array<V>>, key: K, value: V) => {
  const values = map.get(key)
  if (values === undefined) map.set(key, [value])
  else values.push(value)
}

const indexOf = (processes: ReadonlyArray<Scanned>): ScanIndex => {
  const byPid = new Map<number, Scanned>()
  const byGroup = new Map<number, Array<Scanned>>()
  const byMarker = new Map<string, Array<Scanned>>()
  const children = new Map<number, Array<number>>()
  for (const entry of processes) {
    byPid.set(entry.pid, entry)
    push(byGroup, entry.pgid, entry)
    if (entry.marker !== undefined) push(byMarker, entry.marker, entry)
    push(children, entry.ppid, entry.pid)
  }
  return { byPid, byGroup, byMarker, children }
}

/** A run's processes in a scan: its leader, its process group, the marked, and whatever is below one of them. */
const membersIn = (index: ScanIndex, run: Run): ReadonlyArray<Scanned> => {
  const exitedAt = run.leaderExitedAt
  const ours = (entry: Scanned) => exitedAt === undefined || Number(entry.startTime) <= exitedAt
  const members = new Map<number, Scanned>()
  for (const entry of index.byMarker.get(run.invocation) ?? []) members.set(entry.pid, entry)
  const leader = index.byPid.get(run.leader)
  if (leader !== undefined && ours(leader)) members.set(leader.pid, leader)
  for (const entry of index.byGroup.get(run.leader) ?? []) if (ours(entry)) members.set(entry.pid, entry)
  // Descendants that cleared their environment but are still below a member.
  const pending = [...members.keys()]
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    for (const child of index.children.get(pid) ?? []) {
      const entry = index.byPid.get(child)
      if (entry !== undefined && !members.has(child)) {
        members.set(child, entry)
        pending.push(child)
      }
    }
  }
  return [...members.values()]
}

/**
 * Resource usage is sampled again and again (a dashboard polling `ps`), and most of a machine's processes belong
 * to no run: a process in none stays so (what it starts are new processes, looked at as they appear), so a sample
 * that follows another for the same runs reads only the processes that were theirs and the new ones, and skips the
 * rest (at 200 agents on a machine of 800 processes, 200 reads instead of 800). A pid listed by both samples may
 * still have been reused between them, so the skip holds only between samples this close together, and every
 * process is read again at least this often.
 */
const UNRELATED_TRUST_MILLIS = 5000
const FULL_READ_MILLIS = 30_000

export const makeProcessTable = (): ProcessTable => {
  const markers = new Map<number, { readonly startTime: string; readonly marker: string | undefined }>()
  /** The last scan, indexed once: the stops that share it each look up their run in it. */
  let last: { readonly at: number; readonly processes: ReadonlyArray<Scanned>; readonly index: ScanIndex } | undefined
  /** The last usage sample: when, for which runs, when every process was last read, and which were in no run. */
  let sampled:
    | {
      readonly at: number
      readonly fullAt: number
      readonly invocations: ReadonlySet<string>
      readonly unrelated: ReadonlySet<number>
    }
    | undefined

  /** The live processes among `candidates`, each with its marker (read once per process). */
  const read = (candidates: ReadonlyArray<number>): ReadonlyArray<Scanned> =>
    candidates.map(readStat).filter(isLive).map((entry): Scanned => {
      const known = markers.get(entry.pid)
      if (known !== undefined && known.startTime === entry.startTime) return { ...entry, marker: known.marker }
      const marker = readMarker(entry.pid)
      markers.set(entry.pid, { startTime: entry.startTime, marker })
      return { ...entry, marker }
    })

  /** Forgets the markers of processes no longer listed. */
  const prune = (listed: Iterable<number>) => {
    const present = new Set(listed)
    for (const pid of markers.keys()) if (!present.has(pid)) markers.delete(pid)
  }

  const scan = () => {
    const now = performance.now()
    if (last !== undefined && now - last.at < SCAN_REUSE_MILLIS) return last
    const processes = read(pids())
    prune(processes.map((entry) => entry.pid))
    last = { at: now, processes, index: indexOf(processes) }
    return last
  }

  return {
    membersOf: (run) =>
      // A cached scan may list a process that has exited since.
      membersIn(scan().index, run).flatMap(({ pid, pgid }) => isGone(pid) ? [] : [{ pid, pgid }]),
    usageOf: (runs) => {
      const now = performance.now()
      const listed = pids()
      const previous = sampled
      // A run new since the last sample may have a process that sample took for no run's (its leader, spawned
      // before the run was handed over): then every process is read again.
      const skip = previous !== undefined && now - previous.at < UNRELATED_TRUST_MILLIS && now - previous.fullAt < FULL_READ_MILLIS &&
          runs.every((run) => previous.invocations.has(run.invocation))
        ? previous.unrelated
        : undefined
      const index = indexOf(read(skip === undefined ? listed : listed.filter((pid) => !skip.has(pid))))
      prune(listed)
      const members = runs.map((run) => membersIn(index, run))
      const related = new Set(members.flatMap((entries) => entries.map((entry) => entry.pid)))
      sampled = {
        at: now,
        fullAt: skip === undefined || previous === undefined ? now : previous.fullAt,
        invocations: new Set(runs.map((run) => run.invocation)),
        unrelated: new Set(listed.filter((pid) => !related.has(pid)))
      }
      return members.map((entries) =>
        entries.map(({ pid, startTime, cpuTicks, rssPages }) => ({ pid, startTicks: Number(startTime), cpuTicks, rssPages })))
    },
    markedWith: (prefix) =>
      scan().processes.flatMap((entry) => entry.marker !== undefined && entry.marker.startsWith(prefix) && !isGone(entry.pid) ? [entry.pid] : [])
  }
}

/** Sends `signal` to a process or, with a negative id, a process group; one that is gone is no error. */
export const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name)
  } catch {
    // Already gone, or never ours to signal.
  }
}
