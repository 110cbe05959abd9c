/** The package under test, from its source (tsx compiles it as tsup would): its three entry points. */
export * from "../../src/index.js";
export * from "../../src/collector.js";
export * from "../../src/diagnostics.js";
