import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveDashboard, type DashboardDatasette } from "../helpers/dashboard-datasette.js";
import { DATASETTE_065_BIN, DATASETTE_BIN, PROJECT_ROOT } from "../helpers/datasette-venv.js";
import Database from "../helpers/sqlite-file.js";
import { writeDashboardRows } from "../helpers/dashboard-rows.js";

// Debian's chromium, headless, opens the dashboard page that the printed datasette command serves
// (0.65 and the 1.0 alpha) over six hours of rows made by the package's own row code, waits for
// every panel to finish, and saves a screenshot (docs/dashboard.png is the 0.65 one).

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join(PROJECT_ROOT, "reports", "dashboard");

let source: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  source = mkdtempSync(join(tmpdir(), "events-forward-dashboard-browser-"));
  await writeDashboardRows(join(source, "events.db"), "datasette_events", 20_000, 6);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Nothing but loopback: no updates, no safe-browsing lists, no field trials.
    args: ["--disable-background-networking"],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  rmSync(source, { recursive: true, force: true });
});

describe.each([
  ["0.65", DATASETTE_065_BIN],
  ["1.0", DATASETTE_BIN],
])("the dashboard page on Datasette %s", (major, bin) => {
  let dir: string;
  let ds: DashboardDatasette;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "events-forward-dashboard-page-"));
    copyFileSync(join(source, "events.db"), join(dir, "events.db"));
    ds = await serveDashboard(bin, dir);
  });

  afterAll(async () => {
    await ds?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("renders every chart and table, with no error shown and none in the console", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const outside: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning")
        problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("request", (request) => {
      if (!request.url().startsWith(ds.url)) outside.push(request.url());
    });
    try {
      await page.goto(`${ds.url}${ds.pagePath}?range=1h`);
      await page.waitForFunction(
        () => {
          const panels = [...document.querySelectorAll<HTMLElement>("[data-panel]")];
          return panels.length > 0 && panels.every((p) => p.dataset.state === "ready" || p.dataset.state === "error");
        },
        null,
        { timeout: 20_000 },
      );
      const states = await page.$$eval("[data-panel]", (panels) =>
        panels.map((p) => `${(p as HTMLElement).dataset.panel}=${(p as HTMLElement).dataset.state}`),
      );
      expect(states).toHaveLength(11);
      expect(states.filter((state) => !state.endsWith("=ready"))).toEqual([]);
      expect(await page.$$eval(".ef-error", (errors) => errors.map((e) => e.textContent))).toEqual([]);
      // Five charts drawn by uPlot (a canvas each), and the tables filled from the stored queries.
      expect(await page.locator(".uplot canvas").count()).toBe(5);
      expect(await page.locator("[data-panel=latest_5xx] tbody tr").count()).toBe(50);
      expect(await page.locator("[data-panel=summary] .ef-metric").count()).toBe(4);
      const requestLink = page.locator("[data-panel=latest_5xx] tbody a").first();
      expect(await requestLink.getAttribute("href")).toMatch(/^\/events\/request_events\?request_id=/);
      expect(problems).toEqual([]);
      expect(outside).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      const file = join(SCREENSHOTS, `dashboard-${major}.png`);
      await page.screenshot({ path: file, fullPage: true });
      expect(statSync(file).size).toBeGreaterThan(10_000);
    } finally {
      await page.close();
    }
  });

  it("filters by instance from the page's query string", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${ds.url}${ds.pagePath}?range=all&instance=web-1`);
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>("[data-panel=summary]")?.dataset.state === "ready",
      );
      const db = new Database(join(dir, "events.db"), { readonly: true });
      const count = (where: string) =>
        (
          db.prepare(`SELECT count(*) AS n FROM datasette_events WHERE event = 'request'${where}`).get() as {
            n: number;
          }
        ).n;
      const web1 = count(" AND instance = 'web-1'");
      const all = count("");
      db.close();
      expect(web1).toBeLessThan(all);
      expect(await page.locator("[data-panel=summary] .ef-metric b").first().textContent()).toBe(
        web1.toLocaleString("en"),
      );
    } finally {
      await page.close();
    }
  });
});

describe("the dashboard page when Datasette stops its queries", () => {
  let dir: string;
  let ds: DashboardDatasette;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "events-forward-dashboard-page-"));
    copyFileSync(join(source, "events.db"), join(dir, "events.db"));
    // A table without the dashboard's indexes (a Datasette whose owner has not added them), each
    // request row 300 times over (the same times, other ids), and a time limit of 1 ms: the heavier
    // stored queries are stopped however fast the machine (on the small table alone, all finish in time).
    const db = new Database(join(dir, "events.db"));
    db.exec("DROP INDEX datasette_events_requests; DROP INDEX datasette_events_routes");
    db.exec(`WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 300)
      INSERT INTO datasette_events (id, instance, event, created, actor_id, database_name, table_name, properties)
      SELECT substr(e.id, 1, 10) || printf('%016d', n.k * 1000000 + e.rowid), e.instance, e.event, e.created,
             e.actor_id, e.database_name, e.table_name, e.properties
      FROM datasette_events AS e, n WHERE e.event = 'request'`);
    db.close();
    ds = await serveDashboard(DATASETTE_065_BIN, dir, { extraArgs: ["--setting", "sql_time_limit_ms", "1"] });
  });

  afterAll(async () => {
    await ds?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows each failed panel's error in its panel, short and in words", async () => {
    const page = await browser.newPage();
    try {
      // Datasette 0.65 runs `PRAGMA schema_version` under the time limit on every request: on a
      // loaded machine 1 ms stops even that now and then, and the page itself is a 500 (with no
      // panels). The page must load for its panels to be looked at: a few tries.
      for (let attempt = 1; ; attempt++) {
        const response = await page.goto(`${ds.url}${ds.pagePath}?range=6h`);
        if (response?.status() === 200 || attempt === 5) break;
      }
      await page.waitForFunction(() => {
        const panels = [...document.querySelectorAll<HTMLElement>("[data-panel]")];
        return panels.length > 0 && panels.every((p) => p.dataset.state === "ready" || p.dataset.state === "error");
      });
      const errors = await page.$$eval(".ef-error", (found) => found.map((e) => e.textContent ?? ""));
      expect(errors.length).toBeGreaterThan(0);
      // Datasette answers a time-out with HTML and the whole query: the panel shows one line of text.
      for (const error of errors) {
        expect(error).toMatch(/^\w+: /);
        expect(error).not.toContain("<");
        expect(error.length).toBeLessThan(250);
      }
      expect(errors).toContainEqual(
        expect.stringMatching(
          /^\w+: the query took too long: choose a shorter range, or raise Datasette's sql_time_limit_ms$/,
        ),
      );
      expect(await page.locator("[data-state=error]").count()).toBe(errors.length);
    } finally {
      await page.close();
    }
  });
});
