// A worker that processes one job every two seconds and finishes the job in hand before it stops.
let job = 0
let stopping = false
const work = () => {
  if (stopping) return
  console.log(`worker: processed job ${++job}`)
  setTimeout(work, 2000)
}
setTimeout(work, 2000)
process.on("SIGTERM", () => {
  stopping = true
  console.log(`worker: stopping after ${job} jobs`)
  process.exit(0)
})
