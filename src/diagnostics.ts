// `events-forward/diagnostics`: the names of the node:diagnostics_channel channels a forwarder
// publishes on, their messages' types, and the OpenTelemetry bridge that subscribes to them.
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
