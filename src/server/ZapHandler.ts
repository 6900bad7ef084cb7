/**
 * The ZAP handler (ZeroMQ RFC 27) that admits or refuses CURVE clients by public key. libzmq asks whatever is
 * bound to `inproc://zeromq.zap.01` in the socket's context, once per handshake; zeromq.js has one context per
 * process, so the handler is process-wide and shared: each server registers a check under its own ZAP domain,
 * the handler starts with the first registration and stops with the last. A domain no server registered gets
 * libzmq's own answer without a handler (admit), so other CURVE sockets in an embedding application keep working.
 */
import { Effect, Semaphore } from "effect"
import * as Zmq from "zeromq"
import { BindError } from "./Socket.ts"

const ZAP_ENDPOINT = "inproc://zeromq.zap.01"

export interface ZapRequest {
  /** The peer's IP address (tcp), or `localhost:<uid>:<gid>:<pid>` (ipc); empty when unknown. */
  readonly address: string
  readonly mechanism: string
  /** The client's 32-byte public key (CURVE). */
  readonly publicKey: Uint8Array | undefined
}

export type ZapDecision =
  | { readonly admit: true; readonly userId: string }
  | { readonly admit: false; readonly reason: string }

type Check = (request: ZapRequest) => Promise<ZapDecision>

const checks = new Map<string, Check>()
let running: { readonly router: Zmq.Router; readonly loop: Promise<void> } | undefined
const lifecycle = Semaphore.makeUnsafe(1)

const statusOf = (decision: ZapDecision) =>
  decision.admit ? ["200", "OK", decision.userId] : ["400", decision.reason, ""]

const serve = async (router: Zmq.Router): Promise<void> => {
  for (;;) {
    let frames: Array<Buffer>
    try {
      frames = await router.receive()
    } catch {
      // A timeout only means no handshake came (the receive timeout guards against a lost readiness edge).
      if (router.closed) return
      continue
    }
    const [routingId, , version, requestId, domain, address, , mechanism, publicKey] = frames
    if (routingId === undefined || version?.toString() !== "1.0" || requestId === undefined) continue
    const check = checks.get(domain?.toString() ?? "")
    const decision: ZapDecision = check === undefined
      ? { admit: true, userId: "" }
      : await check({ address: address?.toString() ?? "", mechanism: mechanism?.toString() ?? "", publicKey })
        .catch(() => ({ admit: false, reason: "internal error" }))
    try {
      await router.send([routingId, "", "1.0", requestId, ...statusOf(decision), ""])
    } catch {
      if (router.closed) return
    }
  }
}

const start = async () => {
  const router = new Zmq.Router({ linger: 0, receiveTimeout: 500, sendTimeout: 1000 })
  try {
    await router.bind(ZAP_ENDPOINT)
  } catch (error) {
    router.close()
    throw error
  }
  running = { router, loop: serve(router) }
}

/** Registers `check` for handshakes on `domain` for the life of the scope. */
export const registerZapCheck = (domain: string, check: Check) =>
  Effect.acquireRelease(
    lifecycle.withPermit(Effect.tryPromise({
      try: async () => {
        if (running === undefined) await start()
        checks.set(domain, check)
      },
      catch: (error) =>
        new BindError({
          address: ZAP_ENDPOINT,
          detail: `cannot start the CURVE authentication (ZAP) handler: ${error instanceof Error ? error.message : String(error)}` +
            " (does something else in this process handle ZAP?)"
        })
    })),
    () =>
      lifecycle.withPermit(Effect.promise(async () => {
        checks.delete(domain)
        if (checks.size > 0 || running === undefined) return
        const { router, loop } = running
        running = undefined
        router.close()
        await loop
      }))
  )
