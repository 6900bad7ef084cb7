/**
 * Why the HTTP interface could not start, each as a reason with its cause: an address another process holds (the
 * reasons `Socket.ts` has for the ZeroMQ address), a network address without TLS and tokens, a TLS file that cannot
 * be read or used.
 */
import { Schema } from "effect"
import { messageOf } from "../../messageOf.ts"
import { FileAccessFailed } from "../../security/files.ts"
import { AddressInUse, AddressNotAvailable, BindFailed, PermissionDenied } from "../Socket.ts"

/** A network-reachable address without both TLS and tokens, and the config does not accept the risk. */
export class HttpNetworkExposed extends Schema.TaggedError<HttpNetworkExposed>()("HttpNetworkExposed", {
  missing: Schema.Array(Schema.Literals(["tls", "tokens"]))
}) {
  override get message(): string {
    return `it is reachable from the network without ${this.missing.join(" and ")}, so anyone who can connect could ` +
      "run commands, or read a token on the wire. Set http.tls to {\"certFile\": \"cert.pem\", \"keyFile\": \"key.pem\"} " +
      "and http.tokens to entries 'orchestrate token create NAME' prints (see the README's HTTP interface section). " +
      "Or bind a loopback address such as 127.0.0.1:5580, or set http.allowInsecureNetwork to true to accept the risk"
  }
}

/** `http.tls.certFile` or `keyFile` cannot be read. */
export class TlsFileUnreadable extends Schema.TaggedError<TlsFileUnreadable>()("TlsFileUnreadable", {
  key: Schema.Literals(["certFile", "keyFile"]),
  path: Schema.String,
  reason: FileAccessFailed
}) {
  override get message(): string {
    return `cannot read http.tls.${this.key} ${this.path}: ${this.reason.message}`
  }
}

/** The private key's file is open to other users, who could then impersonate the server. */
export class TlsKeyReadableByOthers extends Schema.TaggedError<TlsKeyReadableByOthers>()("TlsKeyReadableByOthers", {
  path: Schema.String,
  mode: Schema.Int
}) {
  override get message(): string {
    return `the TLS key ${this.path} can be read by other users (mode ${this.mode.toString(8)}); chmod 600 (or 640) it`
  }
}

/** The files are not a PEM certificate and its key, or the key is not the certificate's. */
export class TlsUnusable extends Schema.TaggedError<TlsUnusable>()("TlsUnusable", { cause: Schema.Defect() }) {
  override get message(): string {
    return `http.tls: not a PEM certificate and its private key, or they do not belong together (${messageOf(this.cause)})`
  }
}

export const HttpStartupErrorReason = Schema.Union([
  AddressInUse,
  PermissionDenied,
  AddressNotAvailable,
  BindFailed,
  HttpNetworkExposed,
  TlsFileUnreadable,
  TlsKeyReadableByOthers,
  TlsUnusable
])
export type HttpStartupErrorReason = typeof HttpStartupErrorReason.Type

export class HttpStartupError extends Schema.TaggedError<HttpStartupError>()("HttpStartupError", {
  /** As a URL: `http://127.0.0.1:5580`. */
  url: Schema.String,
  reason: HttpStartupErrorReason
}) {
  override get message(): string {
    return `cannot start the HTTP interface on ${this.url}: ${this.reason.message}`
  }
}
