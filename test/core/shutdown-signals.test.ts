import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";
import { eventsForward } from "../../src/index.js";
import { useLoopbackStore } from "../helpers/forward-to.js";
import { waitFor } from "../helpers/wait.js";

const CHILD = fileURLToPath(new URL("../fixtures/signal-child.ts", import.meta.url));

const t = useLoopbackStore();
let child: ChildProcess | undefined;

afterEach(() => {
  if (child?.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  child = undefined;
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the child; resolves once it has put its events; `exit` resolves when it ends. */
async function startChild(env: Record<string, string> = {}): Promise<{ exit: Promise<Exit> }> {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD], {
    env: { ...process.env, STORE_URL: t.store.url(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = proc;
  let stderr = "";
  proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<Exit>((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal, stderr })));
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve());
    void exit.then((e) => reject(new Error(`child ended before it was ready: ${JSON.stringify(e)}`)));
  });
  return { exit };
}

test.each(["SIGTERM", "SIGINT"] as const)(
  "%s drains the queue, then the process dies of the signal",
  async (signal) => {
    const { exit } = await startChild();
    expect(t.store.events()).toEqual(["e0"]); // the rest wait for the rate limit
    child!.kill(signal);
    const ended = await exit;
    expect(ended).toMatchObject({ code: null, signal });
    expect(t.store.events()).toEqual(["e0", "e1", "e2", "e3", "e4"]);
  },
);

test("with the app's own handler, the app decides how to exit; the drain still happens", async () => {
  const { exit } = await startChild({ OWN_HANDLER: "1" });
  child!.kill("SIGTERM");
  const ended = await exit;
  expect(ended).toMatchObject({ code: 7, signal: null });
  expect(t.store.events()).toEqual(["e0", "e1", "e2", "e3", "e4"]);
});

test("a store that does not answer cannot hold the process past shutdownTimeoutMs; what was lost is logged", async () => {
  const { exit } = await startChild({ TIMEOUT_MS: "200" });
  t.store.behave = () => ({ hangMs: 60_000 });
  child!.kill("SIGTERM");
  const ended = await exit;
  expect(ended).toMatchObject({ code: null, signal: "SIGTERM" });
  expect(t.store.events()).toEqual(["e0"]);
  expect(ended.stderr).toMatch(/dropped 4 event\(s\).*closed before they were delivered/);
});

test("a second signal during the drain ends the process at once", async () => {
  const { exit } = await startChild({ TIMEOUT_MS: "60000" });
  t.store.behave = () => ({ hangMs: 60_000 });
  child!.kill("SIGTERM");
  await waitFor(() => t.store.requests.length === 2, { what: "the drain's request to reach the store" });
  child!.kill("SIGTERM");
  const ended = await exit;
  expect(ended).toMatchObject({ code: null, signal: "SIGTERM" });
  // Killed mid-drain: the deadline never came, so nothing was reported as dropped.
  expect(ended.stderr).not.toMatch(/dropped/);
});

test("with two forwarders, the process ends only when both have drained", async () => {
  let secondRequests = 0;
  // The second forwarder's drain is told to come back in a second: it finishes well after the first.
  t.store.behave = ({ rows }) =>
    rows[0]?.instance === "second" && ++secondRequests === 2
      ? { status: 503, headers: { "retry-after": "1" } }
      : { accept: true };
  const { exit } = await startChild({ TWO: "1" });
  child!.kill("SIGTERM");
  const ended = await exit;
  expect(ended).toMatchObject({ code: null, signal: "SIGTERM" });
  expect(t.store.events().sort()).toEqual(["e0", "e1", "e2", "e3", "e4", "s0", "s1", "s2", "s3", "s4"]);
  expect(secondRequests).toBe(3);
});

test("one listener per signal serves every forwarder: SIGTERM and SIGINT by default, none with false, a list chooses; removed by close()", async () => {
  const count = () => ({
    term: process.listenerCount("SIGTERM"),
    int: process.listenerCount("SIGINT"),
    exit: process.listenerCount("beforeExit"),
  });
  const before = count();
  const off = eventsForward({ apiUrl: t.store.url(), logger: false, shutdownSignals: false });
  expect(count()).toEqual({ ...before, exit: before.exit + 1 }); // the loop emptying still drains
  const plain = eventsForward({ apiUrl: t.store.url(), logger: false });
  const second = eventsForward({ apiUrl: t.store.url(), logger: false });
  expect(count()).toEqual({ term: before.term + 1, int: before.int + 1, exit: before.exit + 1 });
  await plain.close();
  await second.close();
  await second.close(); // twice is fine
  const termOnly = eventsForward({ apiUrl: t.store.url(), logger: false, shutdownSignals: ["SIGTERM"] });
  expect(count()).toEqual({ term: before.term + 1, int: before.int, exit: before.exit + 1 });
  await termOnly.close();
  await off.close();
  expect(count()).toEqual(before);
});
