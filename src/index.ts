import "./types.js";

export { eventsForward, DEFAULT_CLOSE_TIMEOUT_MS, type EventsForward } from "./events-forward.js";
export { RequestEvents } from "./context.js";
export { EventError, EventTooLargeError, EventQueueFullError, ForwarderClosedError, OptionError } from "./errors.js";
export { ROW_COLUMNS, datasetteRowSerializer, type EventInput, type EventMeta, type Serializer } from "./event.js";
export { DEFAULTS, type EventsForwardOptions } from "./options.js";
export type { ForwarderStats, CloseResult } from "./forwarder.js";
export type { Logger } from "./log.js";
export type { Secret } from "./secret.js";
export type { SpoolOptions } from "./spool-options.js";
export type { MetricsOptions } from "./metrics.js";
