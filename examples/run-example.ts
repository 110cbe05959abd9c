// Runs the example Express app end to end: starts it, sends it traffic, and shows the events
// arriving in the store. `npm run example` (after `npm ci`).
import type { AddressInfo } from "node:net";
import { eventsForward } from "events-forward";
import { createExpressApp } from "./express-app.js";

const REQUESTS = Number(process.env.REQUESTS ?? 200);
const apiUrl = process.env.FORWARD_URL;
if (apiUrl === undefined) {
  console.error("Set FORWARD_URL (a Datasette /-/create URL) and FORWARD_TOKEN.");
  process.exit(2);
}

const events = eventsForward({
  apiUrl,
  ...(process.env.FORWARD_TOKEN ? { apiToken: { $env: "FORWARD_TOKEN" } } : {}),
  instance: "example",
  batchLimit: 100,
  maxRate: 10,
  timePeriod: 1,
});
const server = createExpressApp(events).listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
console.log(`example app listening on ${base}; sending ${REQUESTS} requests`);

for (let i = 1; i <= REQUESTS; i++) {
  const path = i % 3 === 0 ? "/exports" : "/signup";
  await fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user: `user-${i}`, plan: i % 2 ? "pro" : "free" }) });
  if (i % 50 === 0 || i === REQUESTS) {
    const s = events.stats();
    console.log(`  ${i}/${REQUESTS} requests — ${s.sent} events delivered, ${s.queued} queued`);
  }
}
server.close();
const result = await events.close({ timeoutMs: 10_000 });
console.log(`delivered ${result.delivered} events, ${result.undelivered} not delivered`);
const rows = await (await fetch(apiUrl.replace(/\/-\/create$/, "/datasette_events.json?_shape=array&_size=3&_sort_desc=id"))).json();
console.log("newest rows:", rows);
