/**
 * A request id for the fast path: a random (version 4) UUID, as `crypto.randomUUID` gives the full CLI, made of 16
 * bytes of /dev/urandom. Loading node:crypto or Web Crypto for it costs about 6 ms here, a tenth of a one-shot
 * `ps`; where /dev/urandom cannot be read, Web Crypto makes it all the same.
 */
import { Fs } from "./builtins.ts"

const RANDOM_SOURCE = "/dev/urandom"

const randomBytes = (count: number): Uint8Array | undefined => {
  try {
    const fd = Fs.openSync(RANDOM_SOURCE, "r")
    try {
      const bytes = new Uint8Array(count)
      return Fs.readSync(fd, bytes, 0, count, null) === count ? bytes : undefined
    } finally {
      Fs.closeSync(fd)
    }
  } catch {
    return undefined
  }
}

/** RFC 9562's layout: the version (4) and variant (10) bits set, in hex as 8-4-4-4-12. */
export const uuidOf = (bytes: Uint8Array): string => {
  const hex = Array.from(bytes, (byte, index) =>
    (index === 6 ? (byte & 0x0f) | 0x40 : index === 8 ? (byte & 0x3f) | 0x80 : byte).toString(16).padStart(2, "0")).join("")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

export const requestId = (): string => {
  const bytes = randomBytes(16)
  return bytes === undefined ? globalThis.crypto.randomUUID() : uuidOf(bytes)
}
