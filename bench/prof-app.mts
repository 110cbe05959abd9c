// temporary: profile one app-server variant under load
import autocannon from "autocannon";
import { forkWithPort, startSink } from "./lib/processes.js";
const [framework, variant, secs] = process.argv.slice(2) as [string, string, string];
const sink = await startSink("drain");
const server = await forkWithPort("./app-server.ts", [framework!, variant!, sink.url], ["--cpu-prof", "--cpu-prof-dir=/tmp/mb/appprof"]);
const ask = (q: string) => new Promise<any>((r) => { const l = (m: any) => { if ("cpu" in m) { server.process.off("message", l); r(m); } }; server.process.on("message", l); server.process.send(q); });
await autocannon({ url: `http://127.0.0.1:${server.port}/`, connections: 10, duration: 3 });
const b = await ask("cpu");
const res = await autocannon({ url: `http://127.0.0.1:${server.port}/`, connections: 10, duration: Number(secs ?? 8) });
const a = await ask("cpu");
console.log(framework, variant, "rps", Math.round(res.requests.total / res.duration), "cpu us/req", ((a.cpu - b.cpu) / (a.handled - b.handled)).toFixed(1));
server.process.disconnect();
await new Promise((r) => server.process.once("exit", r));
await sink.stop();
