import { eventsForward } from "./lib/package.js";
import { EVENT_NAME, USER_ID, eventProperties, quietLogger } from "./lib/payload.js";
const events = eventsForward({ apiUrl: "http://127.0.0.1:9/x/-/create", instance: "bench", maxQueueSize: 1_000_000, logger: quietLogger, maxRate: 1, timePeriod: 86400 });
const N = 300_000;
const s = performance.now();
for (let i = 0; i < N; i++) events.put({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) });
console.log("ns/put", ((performance.now() - s) * 1e6) / N);
const t = performance.now(); for (let i = 0; i < N; i++) Date.now(); console.log("ns/Date.now", ((performance.now() - t) * 1e6) / N);
process.exit(0);
