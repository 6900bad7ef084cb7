/**
 * The process groups of agents alive right now, in this process.
 *
 * Normally every agent is stopped gracefully through its scope. This registry is for the one path that cannot
 * wait for that: an operator's second Ctrl-C, which must not leave orphaned agents behind when it exits at once.
 * It is process-wide because signals are.
 */
const groups = new Set<number>()

export const register = (pid: number): void => {
  groups.add(pid)
}

export const unregister = (pid: number): void => {
  groups.delete(pid)
}

/** Sends SIGKILL to every live agent's process group, synchronously. */
export const killAllNow = (): void => {
  for (const pid of groups) {
    try {
      process.kill(-pid, "SIGKILL")
    } catch {
      // Already gone.
    }
  }
  groups.clear()
}
