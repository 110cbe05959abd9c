import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedQueries } from "../../src/dashboard/queries.js";
import { serveDashboard, type DashboardDatasette } from "../helpers/dashboard-datasette.js";
import { DATASETTE_065_BIN, DATASETTE_BIN } from "../helpers/datasette-venv.js";
import Database from "../helpers/sqlite-file.js";
import { expectedAnswers } from "./expected.js";
import { sendTraffic, type Traffic } from "./traffic.js";

// An app sends a known mix of requests and events into the embedded store; the dashboard's own
// command writes its files and prints the datasette command; each stored query, asked through
// that Datasette (0.65 and the 1.0 alpha), must answer what the test computes from what it sent.

let traffic: Traffic;
let source: string;

beforeAll(async () => {
  source = mkdtempSync(join(tmpdir(), "events-forward-dashboard-"));
  traffic = await sendTraffic(join(source, "events.db"));
}, 60_000);

afterAll(() => rmSync(source, { recursive: true, force: true }));

type Row = Record<string, unknown>;

async function ask(ds: DashboardDatasette, name: string, params: Record<string, string> = {}): Promise<Row[]> {
  const search = new URLSearchParams({ from: "", to: "", instance: "", ...params, _shape: "array" });
  const response = await fetch(`${ds.url}/events/${name}.json?${search}`);
  const body = (await response.json()) as Row[];
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.map((row) =>
    typeof row.per_minute === "string" ? { ...row, per_minute: JSON.parse(row.per_minute) as unknown } : row,
  );
}

const QUERIES = Object.keys(storedQueries("datasette_events")).filter((name) => name !== "request_events");

const DASHBOARD_INDEXES = ["datasette_events_requests", "datasette_events_routes"];

// The embedded store's table has the dashboard's indexes; a Datasette whose owner has not added
// them gets the same numbers by the queries' other way (docs/dashboard.md).
describe.each([
  ["0.65", "with", DATASETTE_065_BIN],
  ["1.0", "with", DATASETTE_BIN],
  ["0.65", "without", DATASETTE_065_BIN],
])("the dashboard on Datasette %s, %s the dashboard's indexes", (major, indexes, bin) => {
  let dir: string;
  let ds: DashboardDatasette;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "events-forward-dashboard-ds-"));
    copyFileSync(join(source, "events.db"), join(dir, "events.db"));
    const db = new Database(join(dir, "events.db"));
    if (indexes === "without") for (const name of DASHBOARD_INDEXES) db.exec(`DROP INDEX ${name}`);
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all();
    db.close();
    expect(names.map((row) => (row as { name: string }).name).sort()).toEqual(
      indexes === "with" ? DASHBOARD_INDEXES : [],
    );
    ds = await serveDashboard(bin, dir);
  });

  afterAll(async () => {
    await ds?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the command for the Datasette on PATH, and the page's path", () => {
    expect(ds.version.startsWith(major === "0.65" ? "0.65" : "1.0")).toBe(true);
    expect(ds.printed).toContain(major === "0.65" ? "--metadata" : "--config");
    expect(ds.pagePath).toBe("/-/dashboards/events");
  });

  it("knows the mix it sent: both instances, aborts, 5xx, custom events in and out of requests", () => {
    expect(new Set(traffic.requests.map((r) => r.instance))).toEqual(new Set(["web-1", "web-2"]));
    expect(traffic.requests.filter((r) => r.aborted && r.status === null)).toHaveLength(2);
    expect(traffic.requests.filter((r) => r.aborted && r.status === 200)).toHaveLength(2);
    expect(traffic.custom.filter((c) => c.requestId === null)).toHaveLength(2);
  });

  it.each(QUERIES)("stored query %s equals what the test computes from what it sent", async (name) => {
    expect(await ask(ds, name)).toEqual(expectedAnswers(traffic)[name]);
  });

  it.each(QUERIES)("stored query %s, for one instance, counts only that instance", async (name) => {
    expect(await ask(ds, name, { instance: "web-2" })).toEqual(expectedAnswers(traffic, "web-2")[name]);
  });

  it("counts only the rows in the time range asked for", async () => {
    const times = traffic.requests.map((r) => r.created).sort();
    // From the second after the first request: that one (at least) is left out.
    const first = new Date(Date.parse(times[0]!) + 1000).toISOString().slice(0, 19);
    const inRange = traffic.requests.filter((r) => r.created >= first).length;
    expect(inRange).toBeLessThan(traffic.requests.length);
    const [summary] = await ask(ds, "summary", { from: first });
    expect(summary!.requests).toBe(inRange);
    const after = new Date(Date.parse(times.at(-1)!) + 2000).toISOString();
    expect(await ask(ds, "summary", { from: after })).toEqual([
      { requests: 0, events: 0, error_rate: null, p95: null },
    ]);
    expect(await ask(ds, "requests_per_minute", { to: times[0]!.slice(0, 19) })).toEqual([]);
  });

  it("request_events lists every event of a 5xx request, in order", async () => {
    const failed = traffic.requests.find((r) => r.status === 500)!;
    const ids = [failed.id, ...traffic.custom.filter((c) => c.requestId === failed.requestId).map((c) => c.id)].sort();
    expect(ids.length).toBeGreaterThan(1);
    const rows = await ask(ds, "request_events", { request_id: failed.requestId });
    expect(rows.map((row) => row.id)).toEqual(ids);
    expect(rows.map((row) => row.event)).toContain("checkout");
  });

  it("serves the page, its script, its stylesheet and uPlot", async () => {
    const page = await fetch(`${ds.url}${ds.pagePath}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('data-database="/events"');
    for (const file of ["dashboard.js", "draw.js", "dashboard.css", "uPlot.iife.min.js", "uPlot.min.css"]) {
      expect(html).toContain(`/events-dashboard/${file}`);
      expect((await fetch(`${ds.url}/events-dashboard/${file}`)).status).toBe(200);
    }
  });
});
