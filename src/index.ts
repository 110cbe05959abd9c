import "./types.js";

export { eventsForward, DEFAULT_CLOSE_TIMEOUT_MS, type EventsForward } from "./events-forward.js";
export { RequestEvents } from "./context.js";
export { EventError, EventTooLargeError, EventQueueFullError, ForwarderClosedError, OptionError, SpoolUnwritableError } from "./errors.js";
export { datasetteRowSerializer } from "./datasette-row.js";
export { ROW_COLUMNS, type EventInput, type EventMeta, type Serializer } from "./event.js";
export { DEFAULTS, SINK_DEFAULTS, type EventsForwardOptions } from "./options.js";
export type { ForwarderStats, CloseResult } from "./forwarder.js";
export type { Logger } from "./log.js";
export type { Secret } from "./secret.js";
export type { SpoolOptions } from "./spool-options.js";
export type { MetricsOptions } from "./metrics.js";
export { Event, FieldKind, type LegacyEventOptions } from "./collector/legacy-event.js";
export { serializeV1Event, serializeV2Event } from "./collector/serializers.js";
export { collectorOptionsFromConfig, COLLECTOR_CONFIG_KEYS } from "./collector/config.js";
export { COLLECTOR_USER_AGENT, type CollectorOptions } from "./collector/options.js";
export type { CollectorVersion } from "./collector/wire.js";
