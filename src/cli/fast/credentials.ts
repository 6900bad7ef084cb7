/**
 * CURVE credentials for the fast path, loaded only when it has keys (node:crypto takes a few milliseconds to load):
 * the orchestrator's public key (the key itself, or a `.pub` or key pair file) and this client's key pair file,
 * read as keys.ts's `readPublicKey` and `readKeyPair` read them, with the same checks (owner-only mode, both keys
 * CURVE keys, the public key the secret key's). Anything those would refuse is `undefined`, left to the full CLI,
 * which says why.
 */
import { isCurveKey, publicKeyOf } from "../../security/curve.ts"
import { type ClientCredentials, makeSigner } from "../../security/signing.ts"
import { Fs } from "./builtins.ts"
import { isRecord } from "./decoders.ts"

const jsonObject = (text: string): Readonly<Record<string, unknown>> | undefined => {
  try {
    const json: unknown = JSON.parse(text)
    return isRecord(json) ? json : undefined
  } catch {
    return undefined
  }
}

const curveKey = (value: unknown): string | undefined => typeof value === "string" && isCurveKey(value) ? value : undefined

const readText = (path: string): { readonly text: string; readonly mode: number } | undefined => {
  try {
    return { text: Fs.readFileSync(path, "utf8"), mode: Fs.statSync(path).mode & 0o777 }
  } catch {
    return undefined
  }
}

const readPublicKey = (pathOrKey: string): string | undefined => {
  if (isCurveKey(pathOrKey) && !Fs.existsSync(pathOrKey)) return pathOrKey
  const file = readText(pathOrKey)
  return file === undefined ? undefined : curveKey(jsonObject(file.text)?.["publicKey"])
}

const readKeyPair = (path: string): { readonly publicKey: string; readonly secretKey: string } | undefined => {
  const file = readText(path)
  if (file === undefined || (file.mode & 0o077) !== 0) return undefined
  const pair = jsonObject(file.text)
  const publicKey = curveKey(pair?.["publicKey"])
  const secretKey = curveKey(pair?.["secretKey"])
  if (publicKey === undefined || secretKey === undefined || publicKeyOf(secretKey) !== publicKey) return undefined
  return { publicKey, secretKey }
}

/** The credentials the two keys name, when both read as they should. */
const readCredentials = (serverKey: string, clientKey: string): ClientCredentials | undefined => {
  const serverPublicKey = readPublicKey(serverKey)
  const pair = serverPublicKey === undefined ? undefined : readKeyPair(clientKey)
  return serverPublicKey === undefined || pair === undefined ? undefined : { serverPublicKey, ...pair }
}

/** The credentials and the request signer for the keys, as CommandClient makes them; undefined as above. */
export const curveFor = (keys: { readonly serverKey: string; readonly clientKey: string }) => {
  const credentials = readCredentials(keys.serverKey, keys.clientKey)
  return credentials === undefined ? undefined : { credentials, sign: makeSigner(credentials) }
}
