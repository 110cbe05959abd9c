import { describe, expect, it } from "vitest";
import { datasetteRowLimit, explainDatasetteError } from "../../../src/stores/datasette/sink.js";

// Datasette 1.0a41's answer to an insert of more rows than max_insert_rows (views/table.py).
const TOO_MANY = JSON.stringify({
  ok: false,
  error: "Too many rows, maximum allowed is 100",
  errors: ["Too many rows, maximum allowed is 100"],
  status: 400,
});

describe("datasetteRowLimit", () => {
  it("reads the limit from Datasette's too-many-rows answer", () => {
    expect(datasetteRowLimit(400, TOO_MANY)).toBe(100);
    expect(datasetteRowLimit(400, JSON.stringify({ errors: ["Too many rows, maximum allowed is 1000"] }))).toBe(1000);
  });

  it.each([
    ["another status", 413, TOO_MANY],
    ["another error", 400, JSON.stringify({ errors: ["Row 0 has invalid columns: bogus"] })],
    [
      "the words inside a longer error",
      400,
      JSON.stringify({ errors: ["Row 0: Too many rows, maximum allowed is 5 is not a column"] }),
    ],
    ["a limit of 0, which no cut can meet", 400, JSON.stringify({ errors: ["Too many rows, maximum allowed is 0"] })],
    ["a body that is not JSON", 400, "Too many rows, maximum allowed is 100"],
  ])("finds no limit in %s", (_what, status, body) => {
    expect(datasetteRowLimit(status, body)).toBeUndefined();
  });

  it("leaves the reason as before", () => {
    expect(explainDatasetteError(400, TOO_MANY, "insert")).toBe(
      "Datasette answered HTTP 400: Too many rows, maximum allowed is 100",
    );
  });
});
