import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eventsForward } from "../../src/index.js";
import { useDatasette } from "../helpers/servers.js";
import { VENV_DIR } from "../helpers/datasette-venv.js";
import { FAST } from "../helpers/fast-options.js";

// The columns datasette-events-forward's track_event() makes, computed by Python itself (the
// Datasette virtualenv's): `event.created.isoformat()` of a UTC datetime, and null for an empty
// database or table name (`if database_name:`). The rows events-forward writes must hold the same.
const PLUGIN_COLUMNS = `
import datetime, json, sys
epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
out = []
for c in json.load(sys.stdin):
    created = epoch + datetime.timedelta(milliseconds=c["ms"])
    out.append([created.isoformat(), c["databaseName"] or None, c["tableName"] or None])
print(json.dumps(out))
`;

interface Case {
  n: number;
  ms: number;
  databaseName: string;
  tableName: string;
}

function pluginColumns(cases: Case[]): unknown[] {
  const out = execFileSync(join(VENV_DIR, "bin", "python"), ["-c", PLUGIN_COLUMNS], {
    input: JSON.stringify(cases),
    encoding: "utf8",
  });
  return JSON.parse(out) as unknown[];
}

const t = useDatasette();

describe("rows as datasette-events-forward writes them, as Datasette stores them", () => {
  it("created is Python's isoformat() byte for byte (no fraction at a whole second), an empty name is null", async () => {
    const at = (ms: number) => Date.UTC(2026, 11, 1, 12, 11, 22, ms);
    const cases: Case[] = [
      { n: 0, ms: at(58), databaseName: "", tableName: "" },
      { n: 1, ms: at(0), databaseName: "db", tableName: "" },
      { n: 2, ms: at(999), databaseName: "", tableName: "t" },
      { n: 3, ms: at(1), databaseName: "db", tableName: "t" },
    ];
    const events = eventsForward({
      ...FAST,
      apiUrl: t.ds.createUrl,
      apiToken: t.ds.rootToken,
      table: "plugin_rows",
      logger: false,
    });
    for (const c of cases)
      events.put({
        event: "e",
        created: c.ms,
        databaseName: c.databaseName,
        tableName: c.tableName,
        properties: { n: c.n },
      });
    await events.close();

    const rows = (await t.ds.rows("plugin_rows")).map((row) => ({
      created: row.created as string,
      database_name: row.database_name,
      table_name: row.table_name,
      n: (JSON.parse(row.properties as string) as { n: number }).n,
    }));
    rows.sort((a, b) => a.n - b.n);
    expect(rows.map((row) => [row.created, row.database_name, row.table_name])).toEqual(pluginColumns(cases));
    expect(rows.map((row) => row.created)).toEqual([
      "2026-12-01T12:11:22.058000+00:00",
      "2026-12-01T12:11:22+00:00",
      "2026-12-01T12:11:22.999000+00:00",
      "2026-12-01T12:11:22.001000+00:00",
    ]);
    // One form in the column: sorted as text, the rows are in time order.
    const byText = [...rows].sort((a, b) => (a.created < b.created ? -1 : 1)).map((row) => row.n);
    expect(byText).toEqual([...cases].sort((a, b) => a.ms - b.ms).map((c) => c.n));
  });
});
