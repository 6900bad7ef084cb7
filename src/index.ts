/**
 * effect-orchestrate: an orchestrator for Effect services, with a ZeroMQ command interface.
 */
export { AgentContext } from "./orchestrator/AgentContext.ts"
export { type AgentDefinition, effectAgent, type EffectAgent, processAgent, type ProcessAgent } from "./orchestrator/AgentDefinition.ts"
export { type Completion, Orchestrator, type OrchestratorOptions, type ShutdownReport } from "./orchestrator/Orchestrator.ts"
export { ConfigError, ProcessAgentConfig } from "./orchestrator/OrchestratorConfig.ts"
export { checkConfigSize, OrchestratorSettings, parseConfigText, parseSettings } from "./app/ConfigFile.ts"
export { OrchestratorControl } from "./ports/OrchestratorControl.ts"
export { type AgentStanding, OrchestratorQuery, type SnapshotView, snapshotOf, uptimeOf } from "./ports/OrchestratorQuery.ts"
export { InMemoryOrchestrator } from "./orchestrator/InMemoryOrchestrator.ts"
export * from "./ports/errors.ts"
export { GuardianError } from "./orchestrator/Guardian.ts"
export { type ProcessCounters, type ProcessReading, ProcessStats } from "./orchestrator/ProcessStats.ts"
export { type AgentUsage, ResourceUsage, SAMPLE_INTERVAL } from "./orchestrator/ResourceUsage.ts"

export { EventCategory, EventStore, EventStoreConfig } from "./events/EventStore.ts"
export { LogFiles, type LogFilesConfig } from "./logs/LogFiles.ts"
export { ByteLines } from "./logs/ByteLines.ts"
export { linesOf, type LogBatch, type LogLine, type LogPage, type LogQuery, type LogSink, LogStore, type LogStream } from "./logs/LogStore.ts"

export * as CommandInterface from "./server/CommandInterface.ts"
export { CommandInterfaceConfig, CommandInterfaceSettings } from "./server/CommandInterfaceConfig.ts"
export { CommandServer } from "./server/CommandServer.ts"
export { AllowedCommands, presets, Whitelist } from "./server/Whitelist.ts"
/**
 * The command interface over HTTP (the API, probes, `/metrics`, the event stream), configured by `HttpConfig`, the
 * config file's `http` section. `Transports.layer` runs each transport the configs enable over one whitelist and
 * audit trail, as `orchestrate up` does; `HttpInterface.layer` alone needs them given
 * (`CommandInterface.whitelistAndAuditTrail`).
 */
export * as Transports from "./server/Transports.ts"
export { HttpInterface } from "./server/http/HttpInterface.ts"
export { HttpConfig, HttpSettings, HttpToken, TlsSettings } from "./server/http/HttpSettings.ts"
export { HttpStartupError } from "./server/http/HttpStartupError.ts"

/**
 * OpenTelemetry export over OTLP/HTTP of traces, the metrics `/metrics` serves, and logs:
 * `Telemetry.layerFromEnvironment()` reads the standard `OTEL_*` variables as `orchestrate up` does,
 * `Telemetry.layer(settings)` takes settings of your own. The exporters are loaded only when the layer is built
 * with an endpoint.
 */
export * as Telemetry from "./app/Telemetry.ts"

export { BadResponse, CommandClient, CommandRefused, Unreachable } from "./client/CommandClient.ts"
export { fingerprint, generateKeyPair, KeyFileError, KeyPair, readKeyPair, readPublicKey, writeKeyPair } from "./security/keys.ts"
export type { ClientCredentials } from "./security/RequestSignature.ts"

export * from "./protocol/Commands.ts"
export * from "./protocol/Envelope.ts"
export * from "./protocol/Model.ts"
