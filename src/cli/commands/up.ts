/**
 * `orchestrate up [config]`: runs an orchestrator from a JSON config file, with its command interface.
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { MaxWorkers } from "../../orchestrator/OrchestratorConfig.ts"
import { HttpAddress } from "../../server/http/HttpAddress.ts"
import { root } from "../root.ts"

export const up = Command.make("up", {
  config: Argument.String("config").pipe(
    Argument.withDescription("A JSON config file (default: the demo, examples/demo.json)"),
    Argument.optional
  ),
  allow: Flag.String("allow").pipe(
    Flag.optional,
    Flag.withDescription("Commands the interface allows: basic, monitoring, all, or a comma-separated list")
  ),
  maxWorkers: Flag.Int("max-workers").pipe(
    Flag.withSchema(MaxWorkers),
    Flag.optional,
    Flag.withDescription("Most agents running at once")
  ),
  logsDir: Flag.String("logs-dir").pipe(
    Flag.optional,
    Flag.withDescription("Also append each agent's lines to DIR/<agent>.log, rotated by size (overrides logs.dir)")
  ),
  http: Flag.String("http").pipe(
    Flag.withSchema(HttpAddress),
    Flag.optional,
    Flag.withDescription(
      "Also serve the command interface over HTTP on HOST:PORT, e.g. 127.0.0.1:5580: the API under /api/v1 (live " +
        "events at /api/v1/events), probes at /livez and /readyz, Prometheus metrics at /metrics, docs at /api/docs " +
        "(overrides http.address and switches it on; see 'orchestrate token create' for tokens)"
    )
  ),
  quiet: Flag.Boolean("quiet").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Do not show agents' output here (it is still kept: 'orchestrate logs')")
  )
}, ({ config, allow, maxWorkers, logsDir, http, quiet }) =>
  Effect.gen(function*() {
    const flags = yield* root
    const { runUp } = yield* Effect.promise(() => import("./runUp.ts"))
    return yield* runUp({ config, address: flags.address, allow, maxWorkers, logsDir, http, quiet })
  })).pipe(
  Command.withDescription(
    "Run an orchestrator from a JSON config file, with its command interface, showing agents' output prefixed " +
      "with their names (--quiet: not). Ctrl-C, SIGTERM or SIGHUP (a closed " +
      "terminal) shut it down gracefully (exit 0); a second one kills every agent at once (exit 130). If up itself " +
      "is killed, its guardian process kills every agent. A config error, or an address in use, exits 2 before any " +
      "agent starts. With OTEL_EXPORTER_OTLP_ENDPOINT set (a collector's OTLP/HTTP URL), it exports traces, " +
      "metrics and logs there, as OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS say " +
      "(see the README's OpenTelemetry section)."
  ),
  Command.withExamples([
    { command: "orchestrate up", description: "Run the demo, its command interface on tcp://127.0.0.1:5570" },
    { command: "orchestrate up services.json --allow monitoring", description: "Run your agents; allow only read commands" },
    { command: "orchestrate up jobs.json --max-workers 2 --log-level debug", description: "Two at a time, logging every request" },
    { command: "orchestrate up services.json --logs-dir /var/log/services --quiet", description: "Agents' output to files only" },
    {
      command: "orchestrate up services.json --http 127.0.0.1:5580",
      description: "Also over HTTP: curl http://127.0.0.1:5580/api/v1/agents, probes at /livez and /readyz, docs at /api/docs"
    },
    {
      command: "OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 OTEL_SERVICE_NAME=jobs orchestrate up services.json",
      description: "Export traces, metrics and logs to an OpenTelemetry collector"
    }
  ])
)
