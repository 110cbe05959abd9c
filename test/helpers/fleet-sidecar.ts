import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startChild, type Child } from "./child.js";
import type { ProxiedDatasetteFile } from "./recording-proxy.js";

const CLI = join(import.meta.dirname, "../../src/cli/main.ts");

/** What a fleet's processes are given, and so the sidecar beside them. */
export interface FleetSidecar {
  /** The INI lines that name the spool (`spool = ...`, and `spool.key` for Redis). */
  target: string[];
  spool: { leaseMs: number; pollMs: number };
  rate: { batchLimit: number; maxRate: number; timePeriod: number };
  /** Environment the INI's `${...}` read, besides FLEET_TOKEN (the Datasette token). */
  env?: Record<string, string>;
}

/**
 * Starts `events-forward publish` on an [event-publisher:fleet] section written from `fleet`,
 * sending through the file's proxy; it is killed after the file's tests.
 */
export function startFleetSidecar(t: ProxiedDatasetteFile, fleet: FleetSidecar): Child {
  const config = join(t.ds.dir, "fleet.ini");
  writeFileSync(
    config,
    [
      "[event-publisher:fleet]",
      ...fleet.target,
      `spool.lease_ms = ${fleet.spool.leaseMs}`,
      `spool.poll_ms = ${fleet.spool.pollMs}`,
      `api_url = ${t.proxy.url}/data/-/create`,
      "api_token = ${FLEET_TOKEN}",
      `batch_limit = ${fleet.rate.batchLimit}`,
      `max_rate = ${fleet.rate.maxRate}`,
      `time_period = ${fleet.rate.timePeriod}`,
    ].join("\n"),
  );
  const sidecar = startChild(CLI, ["publish", "--queue-name", "fleet", config], {
    FLEET_TOKEN: t.ds.rootToken,
    ...fleet.env,
  });
  t.children.push(sidecar);
  return sidecar;
}
