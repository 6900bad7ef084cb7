// A stand-in database: ready after a short warm-up, checkpoints periodically, shuts down cleanly on SIGTERM.
let checkpoints = 0
console.log("db: starting")
setTimeout(() => console.log("db: ready to accept connections"), 300)
const timer = setInterval(() => console.log(`db: checkpoint ${++checkpoints} complete`), 5000)
process.on("SIGTERM", () => {
  console.log("db: shutting down")
  clearInterval(timer)
  process.exit(0)
})
