/**
 * CURVE keys as ZeroMQ writes them: 32 bytes in Z85 (ZeroMQ RFC 32), 40 characters. Plain code, without even
 * node:crypto, so that the CLI's fast path can tell a key from a path (contexts.json) at no cost.
 */

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
const DIGITS = new Map([...ALPHABET].map((char, index) => [char, index]))

/** Z85-encodes bytes whose length is a multiple of 4. */
export const z85Encode = (bytes: Uint8Array): string => {
  let text = ""
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let offset = 0; offset < bytes.length; offset += 4) {
    let value = view.getUint32(offset)
    const chunk = new Array<string>(5)
    for (let i = 4; i >= 0; i--) {
      chunk[i] = ALPHABET[value % 85] ?? ""
      value = Math.floor(value / 85)
    }
    text += chunk.join("")
  }
  return text
}

/** Decodes Z85 text (a multiple of 5 characters); undefined if it is not Z85. */
export const z85Decode = (text: string): Uint8Array | undefined => {
  if (text.length % 5 !== 0) return undefined
  const bytes = new Uint8Array((text.length / 5) * 4)
  const view = new DataView(bytes.buffer)
  for (let offset = 0; offset < text.length; offset += 5) {
    let value = 0
    for (let i = 0; i < 5; i++) {
      const digit = DIGITS.get(text[offset + i] ?? "")
      if (digit === undefined) return undefined
      value = value * 85 + digit
    }
    if (value > 0xffffffff) return undefined
    view.setUint32((offset / 5) * 4, value)
  }
  return bytes
}

/** Whether a text is a CURVE key in Z85: 40 characters for 32 bytes. */
export const isCurveKey = (key: string): boolean => key.length === 40 && z85Decode(key) !== undefined
