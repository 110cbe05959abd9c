/** The package under test, from its source (tsx compiles it as tsup would). */
export * from "../../src/index.js";
