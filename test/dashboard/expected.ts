import type { Traffic } from "./traffic.js";

/**
 * What each stored query must answer for the whole range (minute buckets: the traffic takes
 * seconds), computed in JavaScript from what the test sent and when it landed.
 */
type Row = Record<string, unknown>;

/** Nearest rank: the value at rank ceil(p/100 * n) of the sorted values. */
export function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
const groupBy = <T>(items: T[], key: (item: T) => string) => {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
};
const classOf = (status: number | null) =>
  status === null || status < 200 || status > 599 ? "no_status" : `${Math.floor(status / 100)}xx`;
const routeOf = (route: string | undefined) => route ?? "(no route)";
const percentiles = (durations: number[]) => ({
  p50: nearestRank(durations, 50),
  p95: nearestRank(durations, 95),
  p99: nearestRank(durations, 99),
});
const byKeyDesc = (key: string, then: string) => (a: Row, b: Row) =>
  (b[key] as number) - (a[key] as number) || (a[then]! < b[then]! ? -1 : a[then]! > b[then]! ? 1 : 0);

export function expectedAnswers(traffic: Traffic, instance = ""): Record<string, Row[]> {
  const requests = traffic.requests.filter((r) => instance === "" || r.instance === instance);
  const custom = traffic.custom.filter((c) => instance === "" || c.instance === instance);
  const errors = (rs: typeof requests) => rs.filter((r) => (r.status ?? 0) >= 500).length;
  const everything = [
    ...requests.map((r) => ({
      id: r.id,
      actor: r.actor ?? null,
      event: "request",
      created: r.created,
      instance: r.instance,
    })),
    ...custom.map((c) => ({ id: c.id, actor: c.actor, event: c.name, created: c.created, instance: c.instance })),
  ];
  const maxCreated = (items: Array<{ created: string }>) =>
    items
      .map((i) => i.created)
      .sort()
      .at(-1);
  const worst5xx = requests.filter((r) => (r.status ?? 0) >= 500).sort((a, b) => (a.id < b.id ? 1 : -1));
  return {
    summary: [
      {
        requests: requests.length,
        events: custom.length,
        error_rate: round(errors(requests) / requests.length, 4),
        p95: nearestRank(
          requests.map((r) => r.durationMs),
          95,
        ),
      },
    ],
    requests_per_minute: groupBy(requests, (r) => r.minute).map(([bucket, rs]) => {
      const counts: Row = { bucket, minutes: 1, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, no_status: 0 };
      for (const r of rs) (counts[classOf(r.status)] as number)++;
      return counts;
    }),
    latency_per_minute: groupBy(requests, (r) => r.minute).map(([bucket, rs]) => ({
      bucket,
      minutes: 1,
      requests: rs.length,
      ...percentiles(rs.map((r) => r.durationMs)),
    })),
    slowest_routes: groupBy(requests, (r) => routeOf(r.route))
      .map(([route, rs]) => ({ route, requests: rs.length, ...percentiles(rs.map((r) => r.durationMs)) }) as Row)
      .sort(byKeyDesc("p95", "route"))
      .slice(0, 10),
    error_rate_per_minute: groupBy(requests, (r) => r.minute).map(([bucket, rs]) => ({
      bucket,
      minutes: 1,
      requests: rs.length,
      errors: errors(rs),
      error_rate: round(errors(rs) / rs.length, 4),
    })),
    routes_with_most_5xx: groupBy(requests, (r) => routeOf(r.route))
      .map(
        ([route, rs]) =>
          ({ route, errors: errors(rs), requests: rs.length, error_rate: round(errors(rs) / rs.length, 4) }) as Row,
      )
      .filter((row) => (row.errors as number) > 0)
      .sort(byKeyDesc("errors", "route"))
      .slice(0, 10),
    aborted_per_minute: groupBy(
      requests.filter((r) => r.aborted),
      (r) => r.minute,
    ).map(([bucket, rs]) => ({
      bucket,
      minutes: 1,
      aborted: rs.length,
      no_status: rs.filter((r) => r.status === null).length,
    })),
    events_per_minute: groupBy(custom, (c) => c.minute).map(([bucket, cs]) => ({
      bucket,
      minutes: 1,
      events: cs.length,
      per_minute: Object.fromEntries(groupBy(cs, (c) => c.name).map(([name, named]) => [name, named.length])),
    })),
    top_events: groupBy(custom, (c) => c.name)
      .map(
        ([event, cs]) =>
          ({
            event,
            events: cs.length,
            actors: new Set(cs.map((c) => c.actor).filter((a) => a !== null)).size,
            last_seen: maxCreated(cs),
          }) as Row,
      )
      .sort(byKeyDesc("events", "event"))
      .slice(0, 20),
    top_actors: groupBy(
      everything.filter((e) => e.actor !== null),
      (e) => e.actor!,
    )
      .map(
        ([actor_id, es]) =>
          ({
            actor_id,
            events: es.length,
            requests: es.filter((e) => e.event === "request").length,
            last_seen: maxCreated(es),
          }) as Row,
      )
      .sort(byKeyDesc("events", "actor_id"))
      .slice(0, 20),
    latest_5xx: worst5xx.slice(0, 50).map((r) => ({
      created: r.created,
      status: r.status,
      method: r.method,
      route: routeOf(r.route),
      path: r.path,
      duration_ms: r.durationMs,
      request_id: r.requestId,
      instance: r.instance,
      actor_id: r.actor ?? null,
    })),
    instances: groupBy(everything, (e) => e.instance).map(([name, es]) => ({ instance: name, events: es.length })),
  };
}
