// Runs the example Express app end to end: starts it, sends it traffic, and shows the events
// arriving in the store. `npm run example` needs nothing but Node: without FORWARD_URL the events
// go to the embedded store, ./events.db. With FORWARD_URL (a Datasette /-/create URL) and
// FORWARD_TOKEN they go to that Datasette instead.
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import Database from "better-sqlite3";
import { eventsForward } from "events-forward";
import { createExpressApp } from "./express-app.js";

const REQUESTS = Number(process.env.REQUESTS ?? 200);
const apiUrl = process.env.FORWARD_URL;
const database = resolve(process.env.EVENTS_DB ?? "events.db");

const events = eventsForward({
  ...(apiUrl !== undefined
    ? { apiUrl, ...(process.env.FORWARD_TOKEN ? { apiToken: { $env: "FORWARD_TOKEN" } } : {}) }
    : { database }),
  instance: "example",
  batchLimit: 100,
  maxRate: 10,
  timePeriod: 1,
  // Each request gathers up to 0.1 s of events, so ten a second keep up with the traffic.
  batchWaitMs: 100,
});
const server = createExpressApp(events).listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
console.log(`example app listening on ${base}; sending ${REQUESTS} requests; events go to ${apiUrl ?? database}`);

for (let i = 1; i <= REQUESTS; i++) {
  const path = i % 3 === 0 ? "/exports" : "/signup";
  await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: `user-${i}`, plan: i % 2 ? "pro" : "free" }),
  });
  if (i % 50 === 0 || i === REQUESTS) {
    const s = events.stats();
    console.log(`  ${i}/${REQUESTS} requests — ${s.sent} events delivered, ${s.queued} queued`);
  }
}
server.close();
const result = await events.close({ timeoutMs: 10_000 });
console.log(`delivered ${result.delivered} events, ${result.undelivered} not delivered`);

if (apiUrl !== undefined) {
  const rows = await (
    await fetch(apiUrl.replace(/\/-\/create$/, "/datasette_events.json?_shape=array&_size=3&_sort_desc=id"))
  ).json();
  console.log("newest rows:", rows);
} else {
  const db = new Database(database, { readonly: true });
  const { count } = db.prepare("select count(*) as count from datasette_events").get() as { count: number };
  const newest = db
    .prepare("select id, created, event, actor_id, properties from datasette_events order by id desc limit 3")
    .all() as Array<Record<string, string | null>>;
  db.close();
  console.log(`${database} now holds ${count} events (table datasette_events); the newest three:`);
  for (const row of newest)
    console.log(
      `  ${row.id}  ${row.created}  ${row.event!.padEnd(8)}  actor=${row.actor_id ?? "-"}  ${row.properties}`,
    );
  console.log(`Browse them with Datasette: pip install datasette && datasette ${process.env.EVENTS_DB ?? "events.db"}`);
}
