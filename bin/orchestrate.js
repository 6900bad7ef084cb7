#!/usr/bin/env node
// Reuse V8's compiled code across runs (Node >= 22.1): most of a short command's start-up is compiling the bundle.
import { enableCompileCache } from "node:module"

enableCompileCache?.()
await import("../dist/orchestrate.mjs")
