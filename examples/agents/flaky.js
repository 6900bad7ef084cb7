// Loses its upstream after a few seconds and exits 1: restarted with backoff until it has failed too often.
console.log("flaky: connecting to upstream")
setTimeout(() => {
  console.error("flaky: lost connection to upstream")
  process.exit(1)
}, 3000)
