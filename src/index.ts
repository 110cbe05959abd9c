// The front door: what an app needs to record and forward its events. The collector's helpers
// are in `events-forward/collector` (src/collector.ts), the diagnostics channels and the
// OpenTelemetry bridge in `events-forward/diagnostics` (src/diagnostics.ts).
import "./http/augment.js";

export { eventsForward, type EventsForward, type CollectorEvent } from "./events-forward.js";
export { RequestEvents } from "./http/request-context.js";
export {
  BeforeSendError,
  EventError,
  EventTooLargeError,
  EventQueueFullError,
  ForwarderClosedError,
  OptionError,
  SpoolUnwritableError,
  SpoolUnreachableError,
} from "./core/errors.js";
export { datasetteRowSerializer } from "./row/datasette-row.js";
export { ROW_COLUMNS, type EventInput, type EventMeta, type Serializer } from "./row/event-input.js";
export { SINK_DEFAULTS } from "./config/defaults.js";
export { DEFAULTS } from "./config/option-defaults.js";
export type { EventsForwardOptions } from "./config/options.js";
export type { ForwarderStats, CloseResult } from "./pipeline/forwarder-contract.js";
export type { BeforeSend, BeforeSendStats } from "./row/before-send.js";
export type { Logger } from "./core/log.js";
export type { Secret } from "./core/secret.js";
export type { SpoolOptions } from "./config/spool-options.js";
export type { RedisSpoolOptions } from "./config/redis-spool-options.js";
export type { MetricsOptions } from "./config/option-parsers.js";
export type { CollectorOptions } from "./stores/collector/options.js";
export type { CollectorVersion } from "./stores/collector/wire.js";
