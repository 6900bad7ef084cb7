// A one-shot job: applies its migrations and exits 0, so it ends "completed".
const migrations = ["create_users", "create_orders", "add_order_index"]
let step = 0
const next = () => {
  if (step === migrations.length) {
    console.log("migrate: up to date")
    return
  }
  console.log(`migrate: applying ${migrations[step++]}`)
  setTimeout(next, 200)
}
next()
