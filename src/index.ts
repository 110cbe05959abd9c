import "./http/augment.js";

export { eventsForward, DEFAULT_CLOSE_TIMEOUT_MS, type EventsForward, type CollectorEvent } from "./events-forward.js";
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
export type { ForwarderStats, CloseResult } from "./pipeline/forwarder.js";
export type { BeforeSend, BeforeSendStats } from "./row/before-send.js";
export type { Logger } from "./core/log.js";
export type { Secret } from "./core/secret.js";
export type { SpoolOptions } from "./config/spool-options.js";
export type { RedisSpoolOptions } from "./config/redis-spool-options.js";
export type { MetricsOptions } from "./config/option-parsers.js";
// Event is the legacy event's historical export name; LegacyEvent does not shadow the global Event.
export {
  LegacyEvent,
  LegacyEvent as Event,
  FieldKind,
  type LegacyEventOptions,
} from "./stores/collector/legacy-event.js";
export { serializeV1Event, serializeV2Event } from "./stores/collector/serializers.js";
export { collectorOptionsFromConfig, COLLECTOR_CONFIG_KEYS } from "./stores/collector/ini.js";
export { COLLECTOR_USER_AGENT, type CollectorOptions } from "./stores/collector/options.js";
export type { CollectorVersion } from "./stores/collector/wire.js";
export {
  CHANNELS,
  type ForwarderIdentity,
  type SendContext,
  type DropMessage,
  type OverflowMessage,
  type RetryMessage,
  type BacklogMessage,
  type LeaseMessage,
} from "./observe/channels.js";
export { recordOpenTelemetryMetrics, type OpenTelemetryMetricsOptions } from "./observe/opentelemetry.js";
