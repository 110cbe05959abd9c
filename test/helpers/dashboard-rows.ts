import { DatasetteRows } from "../../src/row/datasette-row.js";
import { sqliteSink } from "../../src/stores/sqlite/sink.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";

/** Route patterns, how often each is hit, and how slow it is (median ms). */
const ROUTES = [
  { method: "GET", route: "/", weight: 30, ms: 8 },
  { method: "GET", route: "/items/:id", weight: 25, ms: 15 },
  { method: "GET", route: "/search", weight: 15, ms: 60 },
  { method: "POST", route: "/checkout", weight: 8, ms: 120 },
  { method: "POST", route: "/signup", weight: 5, ms: 40 },
  { method: "GET", route: "/reports/:year", weight: 4, ms: 400 },
  { method: "GET", route: undefined, weight: 5, ms: 2 },
  { method: "GET", route: "/api/users/:id", weight: 8, ms: 20 },
];
const NAMES = ["signup", "checkout", "search", "export-started", "login", "logout", "invite", "upgrade", "downgrade"];
const INSTANCES = ["web-1", "web-2", "web-3"];

/** A small deterministic generator (mulberry32), so two runs make the same table. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes `count` rows made by the package's own row code (DatasetteRows, the embedded store's
 * sink) as if recorded over the `hours` before now: Date.now is stepped through that span while
 * the rows are made, so ids and `created` agree as they do in a live app. About 80% are request
 * events, the rest custom events put in a request (same request_id).
 */
export async function writeDashboardRows(path: string, table: string, count: number, hours: number): Promise<void> {
  const sink = sqliteSink({ path, table });
  const rows = INSTANCES.map((instance) => new DatasetteRows(instance));
  const rand = random(42);
  const totalWeight = ROUTES.reduce((sum, r) => sum + r.weight, 0);
  const end = Date.now();
  const start = end - hours * 3_600_000;
  const realNow = Date.now;
  let clock = start;
  Date.now = () => clock;
  try {
    let batch: QueuedEvent[] = [];
    let requestNo = 0;
    for (let made = 0; made < count;) {
      clock = Math.floor(start + ((end - start) * made) / count);
      const maker = rows[Math.floor(rand() * rows.length)]!;
      const requestId = `req-${++requestNo}`;
      const actor = rand() < 0.6 ? `user-${Math.floor(rand() * rand() * 500)}` : undefined;
      let pick = rand() * totalWeight;
      const route = ROUTES.find((r) => (pick -= r.weight) < 0) ?? ROUTES[0]!;
      if (rand() < 0.25 && made + 1 < count) {
        const name = NAMES[Math.floor(rand() * rand() * NAMES.length)]!;
        batch.push(maker.queued({ event: name, actorId: actor, properties: { step: 1 } }, { requestId }));
        made++;
      }
      const roll = rand();
      const aborted = roll < 0.01;
      const status =
        aborted && roll < 0.005 ? null : route.route === undefined ? 404 : roll < 0.03 ? 500 : roll < 0.06 ? 302 : 200;
      const duration = Math.round(route.ms * Math.exp((rand() - 0.5) * 3) * 1000) / 1000;
      const properties: Record<string, unknown> = {
        method: route.method,
        path: route.route === undefined ? "/missing" : route.route.replace(/:\w+/, String(requestNo % 1000)),
        status,
        duration_ms: duration,
      };
      if (route.route !== undefined) properties.route = route.route;
      if (aborted) properties.aborted = true;
      batch.push(maker.queued({ event: "request", actorId: actor, properties }, { requestId }));
      made++;
      if (batch.length >= 10_000) {
        await send(sink, batch);
        batch = [];
      }
    }
    await send(sink, batch);
  } finally {
    Date.now = realNow;
    await sink.close?.();
  }
}

async function send(sink: ReturnType<typeof sqliteSink>, batch: QueuedEvent[]): Promise<void> {
  const result = await sink.send(batch, new AbortController().signal);
  if (!result.ok) throw new Error(`writing the rows failed: ${result.reason}`);
}
