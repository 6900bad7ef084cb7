/**
 * A preload for the memory benchmark (`node --expose-gc --import bench/servers/memory-report.mjs bin/orchestrate.js
 * up ...`): on SIGUSR2 it writes the process's memory as V8 and Node see it to $MEMORY_REPORT_FILE, as it is and
 * again after a full garbage collection (what is live). Plain JavaScript: a .ts preload would load Node's type
 * stripping, which takes memory of its own.
 */
import * as Fs from "node:fs"
import * as V8 from "node:v8"

const measure = () => ({
  usage: process.memoryUsage(),
  youngGeneration: V8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0
})

process.on("SIGUSR2", () => {
  const before = measure()
  const collect = Reflect.get(globalThis, "gc")
  if (typeof collect === "function") collect()
  const file = process.env["MEMORY_REPORT_FILE"]
  if (file === undefined) return
  // Written aside and renamed, so that the benchmark, waiting for the file to exist, never reads half of it.
  Fs.writeFileSync(`${file}.part`, JSON.stringify({ before, after: measure() }))
  Fs.renameSync(`${file}.part`, file)
})
