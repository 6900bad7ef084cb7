/**
 * The scheduler of the command server's request fibers: it puts what a request does after suspending behind
 * reading and answering new requests, so that slow commands cannot delay fast ones.
 *
 * A request starts in the socket's receive callback (`inline`), and most run to their answer there. One that
 * suspends (its command waits on a timer, a process, a lock) resumes later in whatever callback woke it, and Node
 * runs every timer that is due in one go: sixteen slow commands answering there kept a `ps` that had arrived
 * waiting for all of them. Here a request fiber that resumes outside `inline` yields at once, and what it yielded
 * runs from a queue of its own, for at most `budgetMillis` per turn of the event loop. Between two turns Node polls
 * its sockets, so a request that arrived meanwhile is read and answered first. The same queue takes every task a
 * request fiber schedules (a fork, a yield after its operation budget), lowest priority number first.
 *
 * It wraps the scheduler it finds (the default one, or a test clock's), through which it schedules its turns.
 */
import type { Fiber, Scheduler } from "effect"

interface Tasks {
  readonly priority: number
  readonly queue: Array<(() => void) | undefined>
  head: number
}

export interface RequestScheduler extends Scheduler.Scheduler {
  /** Runs `start`, during which request fibers run without yielding: the receive callback's synchronous part. */
  readonly inline: <A>(start: () => A) => A
}

export const makeRequestScheduler = (parent: Scheduler.Scheduler, budgetMillis: number): RequestScheduler => {
  const parentDispatcher = parent.makeDispatcher()
  /** Pending tasks by priority, lowest first. */
  const pending: Array<Tasks> = []
  let scheduled = false
  // A fiber yields when it runs outside both: the receive callback, and a turn of this queue.
  let starting = false
  let draining = false

  const take = (): (() => void) | undefined => {
    const first = pending[0]
    if (first === undefined) return undefined
    const task = first.queue[first.head]
    first.queue[first.head++] = undefined
    if (first.head === first.queue.length) pending.shift()
    return task
  }

  const turn = (): void => {
    scheduled = false
    const deadline = performance.now() + budgetMillis
    draining = true
    try {
      for (let task = take(); task !== undefined; task = take()) {
        task()
        if (performance.now() >= deadline) break
      }
    } finally {
      draining = false
    }
    schedule()
  }

  const schedule = (): void => {
    if (scheduled || pending.length === 0) return
    scheduled = true
    parentDispatcher.scheduleTask(turn, 0)
  }

  const dispatcher: Scheduler.SchedulerDispatcher = {
    scheduleTask: (task, priority) => {
      let index = 0
      while (index < pending.length && (pending[index]?.priority ?? priority) < priority) index++
      const tasks = pending[index]
      if (tasks?.priority === priority) tasks.queue.push(task)
      else pending.splice(index, 0, { priority, queue: [task], head: 0 })
      schedule()
    },
    flush: () => {
      draining = true
      try {
        for (let task = take(); task !== undefined; task = take()) task()
      } finally {
        draining = false
      }
      parentDispatcher.flush()
    }
  }

  return {
    executionMode: parent.executionMode,
    shouldYield: (fiber: Fiber.Fiber<unknown, unknown>) => (!starting && !draining) || parent.shouldYield(fiber),
    makeDispatcher: () => dispatcher,
    inline: (start) => {
      const outer = starting
      starting = true
      try {
        return start()
      } finally {
        starting = outer
      }
    }
  }
}
