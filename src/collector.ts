// `events-forward/collector`: the baseplate-style collector's helpers. The `collector` option
// itself (CollectorOptions) and what put() takes from a collector (CollectorEvent) are in the
// main entry, beside the other options.
export { LegacyEvent, FieldKind, type LegacyEventOptions } from "./stores/collector/legacy-event.js";
export { serializeV1Event, serializeV2Event } from "./stores/collector/serializers.js";
export { collectorOptionsFromConfig, COLLECTOR_CONFIG_KEYS } from "./stores/collector/ini.js";
export { COLLECTOR_USER_AGENT } from "./stores/collector/options.js";
