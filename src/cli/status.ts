import type { SpoolStatus } from "../spool/status.js";
import { openInspector } from "./spool-access.js";
import { formatAge, table } from "./format.js";
import { terminalJson } from "../core/printable.js";
import type { SpoolTarget } from "./spool-target.js";

/** `events-forward status`, once: what a person checks first when events seem late. */
export async function statusCommand(target: SpoolTarget, json: boolean, out: (text: string) => void): Promise<number> {
  const inspector = await openInspector(target);
  try {
    const status = await inspector.status(target.timePeriod * 1000);
    out(json ? terminalJson(withCapacity(status, target)) : describeStatus(status, target));
    return 0;
  } finally {
    await inspector.close();
  }
}

/** `--watch`: the same, redrawn in place every `intervalMs` until SIGINT or SIGTERM. */
export async function watchStatus(
  target: SpoolTarget,
  intervalMs: number,
  write: (text: string) => void,
): Promise<number> {
  const inspector = await openInspector(target);
  let stopped = false;
  const draw = async () => {
    const text = describeStatus(await inspector.status(target.timePeriod * 1000), target);
    if (!stopped) write(`\x1b[H\x1b[2J${text}\n(refreshing every ${intervalMs / 1000} s; Ctrl-C to stop)\n`);
  };
  return new Promise((resolve) => {
    // The handlers first: a Ctrl-C right after the first frame must still end cleanly.
    const stop = () => {
      stopped = true;
      clearInterval(timer);
      process.off("SIGINT", stop).off("SIGTERM", stop);
      void inspector.close().then(() => resolve(0));
    };
    process.on("SIGINT", stop).on("SIGTERM", stop);
    const timer = setInterval(() => void draw(), intervalMs);
    void draw();
  });
}

/** Events per second the publisher can deliver at most: batchLimit × maxRate / timePeriod. */
export function capacity(target: SpoolTarget): number {
  return target.timePeriod === 0 ? Number.POSITIVE_INFINITY : (target.batchLimit * target.maxRate) / target.timePeriod;
}

function withCapacity(status: SpoolStatus, target: SpoolTarget) {
  const perSecond = capacity(target);
  return {
    ...status,
    capacity: {
      eventsPerSecond: Number.isFinite(perSecond) ? perSecond : null,
      batchLimit: target.batchLimit,
      maxRate: target.maxRate,
      timePeriod: target.timePeriod,
      fromConfig: target.configured,
    },
  };
}

export function describeStatus(s: SpoolStatus, target: SpoolTarget): string {
  const now = Date.now();
  const perSecond = capacity(target);
  const lease =
    s.lease.holder === undefined
      ? "nobody (no publisher is running, or its lease expired)"
      : `${s.lease.host} pid ${s.lease.pid}${s.lease.since === undefined ? "" : `, since ${new Date(s.lease.since).toISOString()} (${formatAge(now - s.lease.since)})`}`;
  const rows = [
    ["spool", s.spool],
    [
      "events waiting",
      `${s.waiting}${s.oldestAgeMs === undefined ? "" : `, the oldest put ${formatAge(s.oldestAgeMs)} ago`}`,
    ],
    ["publisher", lease],
    [
      "last delivery",
      s.lastDelivery === undefined
        ? "none yet"
        : `${new Date(s.lastDelivery.at).toISOString()} (${formatAge(now - s.lastDelivery.at)} ago): ${s.lastDelivery.outcome}`,
    ],
    [
      "holding",
      s.holding === undefined
        ? "no (the store takes what it is sent)"
        : `${s.holding.answer} since ${new Date(s.holding.since).toISOString()} (${formatAge(now - s.holding.since)}): ${s.holding.reason}; nothing is dropped, the publisher retries with backoff`,
    ],
    ["rate window", `${s.requestsInWindow} of ${target.maxRate} request(s) in the last ${target.timePeriod} s`],
    [
      "capacity",
      `${Number.isFinite(perSecond) ? `${Math.round(perSecond * 100) / 100} events/s` : "no rate limit"} (batchLimit ${target.batchLimit} × maxRate ${target.maxRate} / timePeriod ${target.timePeriod} s${target.configured ? "" : "; defaults: give --queue-name NAME CONFIG for the sidecar's"})`,
    ],
    [
      "dead letters",
      s.deadLetters.length === 0 ? "none" : s.deadLetters.map((r) => `${r.count} ${r.reason}`).join(", "),
    ],
  ];
  // The Redis spool records the last failure apart from the last delivery (a SQLite spool's last delivery says it).
  if (s.lastFailure !== undefined || target.redis !== undefined)
    rows.splice(rows.findIndex(([name]) => name === "last delivery") + 1, 0, [
      "last failure",
      s.lastFailure === undefined
        ? "none"
        : `${new Date(s.lastFailure.at).toISOString()} (${formatAge(now - s.lastFailure.at)} ago): ${s.lastFailure.outcome}`,
    ]);
  return table(rows);
}
