/**
 * The dashboard's stored queries: one per panel, over the rows this package writes (`created`
 * ISO 8601 text in UTC, `properties` JSON, `id` a ULID primary key). Each takes `from`, `to`
 * (ISO times, empty for the first and the last row) and `instance` (empty for all), so the page
 * and a person in Datasette ask the same thing.
 */

export interface StoredQuery {
  title: string;
  description: string;
  sql: string;
  params: string[];
}

/** A SQL identifier the command accepts for --database and --table: no quoting games. */
export const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

const RANGE_PARAMS = ["from", "to", "instance"];

/**
 * Rows whose `created` falls further than this from their id's time are not counted (an app may
 * set its own `created`, e.g. when it back-fills): the margin lets the id's index find the rows.
 */
const ID_MARGIN_MINUTES = 5;

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The first 10 characters of a ULID made at the given julianday: its 48-bit millisecond time. */
function ulidTimeSql(julianday: string): string {
  const ms = `max(0, CAST((${julianday} - 2440587.5) * 86400000 AS INTEGER))`;
  const chars = [];
  for (let shift = 45; shift >= 0; shift -= 5) chars.push(`substr('${CROCKFORD}', ((${ms} >> ${shift}) & 31) + 1, 1)`);
  return chars.join(" || ");
}

/**
 * `span`: the range asked for, to the second, and how wide a bucket is (the length of the
 * `created` prefix that names it: a minute up to 12 hours, 10 minutes up to 5 days, an hour up to
 * 30 days, else a day), so a chart has at most ~720 points. `r`: the rows in range, found through
 * the id (a ULID: time-ordered, the primary key) and then checked on `created`.
 */
function rangeCtes(table: string, where = ""): string {
  const t = `"${table}"`;
  const days = "julianday(hi) - julianday(lo)";
  return `WITH bounds AS (
  SELECT
    strftime('%Y-%m-%dT%H:%M:%S', coalesce(nullif(:from, ''), (SELECT created FROM ${t} ORDER BY id LIMIT 1), '1970-01-01')) AS lo,
    strftime('%Y-%m-%dT%H:%M:%S', coalesce(nullif(:to, ''), (SELECT created FROM ${t} ORDER BY id DESC LIMIT 1), '1970-01-01'), CASE WHEN nullif(:to, '') IS NULL THEN '+1 second' ELSE '+0 seconds' END) AS hi
),
span AS (
  SELECT lo, hi,
    CASE WHEN ${days} <= 0.5 THEN 16 WHEN ${days} <= 5 THEN 15 WHEN ${days} <= 30 THEN 13 ELSE 10 END AS width,
    CASE WHEN ${days} <= 0.5 THEN 1 WHEN ${days} <= 5 THEN 10 WHEN ${days} <= 30 THEN 60 ELSE 1440 END AS minutes,
    ${ulidTimeSql(`julianday(lo) - ${ID_MARGIN_MINUTES} / 1440.0`)} AS lo_id,
    ${ulidTimeSql(`julianday(hi) + ${ID_MARGIN_MINUTES} / 1440.0`)} AS hi_id
  FROM bounds LIMIT 1 -- the LIMIT keeps SQLite from copying these expressions into every row
),
r AS (
  SELECT t.*,
    substr(t.created, 1, span.width) || substr('0000-01-01T00:00:00', span.width + 1) AS bucket, span.minutes
  FROM span JOIN ${t} AS t ON t.id >= span.lo_id AND t.id < span.hi_id
  WHERE t.created >= span.lo AND t.created < span.hi
    AND (coalesce(:instance, '') = '' OR t.instance = :instance)${where}
)`;
}

const REQUESTS = `\n    AND t.event = 'request'`;
const STATUS = "json_extract(properties, '$.status')";
const DURATION = "json_extract(properties, '$.duration_ms')";
const ROUTE = "coalesce(json_extract(properties, '$.route'), '(no route)')";

/** Nearest-rank percentile: the value at rank ceil(p/100 * n) of the sorted durations. */
const rankOf = (p: number) => `(${p} * n + 99) / 100`;
const percentile = (p: number) => `max(CASE WHEN rank = ${rankOf(p)} THEN duration END) AS p${p}`;
const PERCENTILES = [50, 95, 99].map(percentile).join(",\n  ");

/** Sorted durations with their rank and count in each group (`grp`). */
function rankedDurations(group: string, where = ""): string {
  return `ranked AS (
  SELECT grp, duration,
    row_number() OVER (PARTITION BY grp ORDER BY duration) AS rank,
    count(*) OVER (PARTITION BY grp) AS n
  FROM (SELECT ${group} AS grp, ${DURATION} AS duration FROM r${where})
  WHERE duration IS NOT NULL
)`;
}

const perMinute = (expr: string) => `round(${expr} * 1.0 / minutes, 3)`;

export function storedQueries(table: string): Record<string, StoredQuery> {
  const range = (where = "") => rangeCtes(table, where);
  const q = (title: string, description: string, sql: string, params = RANGE_PARAMS): StoredQuery => ({
    title,
    description,
    sql,
    params,
  });
  return {
    summary: q(
      "Summary",
      "Requests, custom events, error rate (share of requests answered 5xx) and p95 latency in ms over the range.",
      `${range()},
e AS (
  SELECT event = 'request' AS is_request,
    CASE WHEN event = 'request' THEN coalesce(${STATUS}, 0) >= 500 END AS failed,
    CASE WHEN event = 'request' THEN ${DURATION} END AS duration
  FROM r
),
ranked AS (
  SELECT is_request, failed, duration,
    row_number() OVER (PARTITION BY is_request ORDER BY duration) AS rank,
    sum(is_request) OVER () AS n
  FROM e
)
SELECT CAST(total(is_request) AS INTEGER) AS requests, CAST(total(NOT is_request) AS INTEGER) AS events,
  round(total(failed) / nullif(total(is_request), 0), 4) AS error_rate,
  max(CASE WHEN is_request AND rank = ${rankOf(95)} THEN duration END) AS p95
FROM ranked`,
    ),
    requests_per_minute: q(
      "Requests per minute by status class",
      "Requests per minute in each bucket, by status class; no_status: the client left before any status went out.",
      `${range(REQUESTS)},
classes AS (
  SELECT bucket, minutes, CAST(${STATUS} AS INTEGER) / 100 AS class, count(*) AS n
  FROM r GROUP BY bucket, class
)
SELECT bucket, minutes,
  ${perMinute("sum(CASE WHEN class = 2 THEN n ELSE 0 END)")} AS "2xx",
  ${perMinute("sum(CASE WHEN class = 3 THEN n ELSE 0 END)")} AS "3xx",
  ${perMinute("sum(CASE WHEN class = 4 THEN n ELSE 0 END)")} AS "4xx",
  ${perMinute("sum(CASE WHEN class = 5 THEN n ELSE 0 END)")} AS "5xx",
  ${perMinute("sum(CASE WHEN class BETWEEN 2 AND 5 THEN 0 ELSE n END)")} AS no_status
FROM classes GROUP BY bucket ORDER BY bucket`,
    ),
    latency_per_minute: q(
      "Latency percentiles per minute",
      "p50, p95 and p99 of duration_ms in each bucket (nearest rank over the sorted durations).",
      `${range(REQUESTS)},
${rankedDurations("bucket")}
SELECT grp AS bucket, (SELECT minutes FROM span) AS minutes, max(n) AS requests,
  ${PERCENTILES}
FROM ranked GROUP BY grp ORDER BY grp`,
    ),
    slowest_routes: q(
      "Slowest routes (p95)",
      "The 10 route patterns with the highest p95 duration_ms over the range.",
      `${range(REQUESTS)},
${rankedDurations(ROUTE)}
SELECT grp AS route, max(n) AS requests,
  ${PERCENTILES}
FROM ranked GROUP BY grp ORDER BY p95 DESC, route LIMIT 10`,
    ),
    error_rate_per_minute: q(
      "Error rate per minute",
      "The share of requests answered 5xx in each bucket.",
      `${range(REQUESTS)}
SELECT bucket, minutes, count(*) AS requests, sum(failed) AS errors,
  round(sum(failed) * 1.0 / count(*), 4) AS error_rate
FROM (SELECT bucket, minutes, coalesce(${STATUS}, 0) >= 500 AS failed FROM r)
GROUP BY bucket ORDER BY bucket`,
    ),
    routes_with_most_5xx: q(
      "Routes with the most 5xx",
      "The 10 route patterns with the most 5xx answers over the range.",
      `${range(REQUESTS)}
SELECT route, sum(failed) AS errors, count(*) AS requests,
  round(sum(failed) * 1.0 / count(*), 4) AS error_rate
FROM (SELECT ${ROUTE} AS route, coalesce(${STATUS}, 0) >= 500 AS failed FROM r)
GROUP BY route HAVING errors > 0 ORDER BY errors DESC, route LIMIT 10`,
    ),
    aborted_per_minute: q(
      "Aborted requests per minute",
      "Requests the client left before the response was complete, per minute; no_status: it left before any status went out.",
      `${range(REQUESTS)}
SELECT bucket, minutes, ${perMinute("count(*)")} AS aborted, ${perMinute("sum(status IS NULL)")} AS no_status
FROM (SELECT bucket, minutes, ${STATUS} AS status FROM r WHERE json_extract(properties, '$.aborted'))
GROUP BY bucket ORDER BY bucket`,
    ),
    events_per_minute: q(
      "Custom events per minute by name",
      "Events other than request, per minute in each bucket, for the 8 most frequent names (the rest as (other)); per_minute is a JSON object.",
      `${range(`\n    AND t.event <> 'request'`)},
top AS (SELECT event FROM r GROUP BY event ORDER BY count(*) DESC, event LIMIT 8),
counted AS (
  SELECT bucket, minutes, CASE WHEN event IN (SELECT event FROM top) THEN event ELSE '(other)' END AS name, count(*) AS n
  FROM r GROUP BY bucket, name
)
SELECT bucket, minutes, sum(n) AS events, json_group_object(name, ${perMinute("n")}) AS per_minute
FROM counted GROUP BY bucket ORDER BY bucket`,
    ),
    top_events: q(
      "Top custom events",
      "The 20 most frequent event names other than request over the range.",
      `${range(`\n    AND t.event <> 'request'`)}
SELECT event, count(*) AS events, count(DISTINCT actor_id) AS actors, max(created) AS last_seen
FROM r GROUP BY event ORDER BY events DESC, event LIMIT 20`,
    ),
    top_actors: q(
      "Top actors",
      "The 20 actors with the most events (requests included) over the range.",
      `${range(`\n    AND t.actor_id IS NOT NULL`)}
SELECT actor_id, count(*) AS events, sum(event = 'request') AS requests, max(created) AS last_seen
FROM r GROUP BY actor_id ORDER BY events DESC, actor_id LIMIT 20`,
    ),
    latest_5xx: q(
      "Latest 5xx requests",
      "The 50 latest requests answered 5xx; request_events lists every event of one request_id.",
      `${range(REQUESTS)}
SELECT created, ${STATUS} AS status, json_extract(properties, '$.method') AS method, ${ROUTE} AS route,
  json_extract(properties, '$.path') AS path, ${DURATION} AS duration_ms,
  json_extract(properties, '$.request_id') AS request_id, instance, actor_id
FROM r WHERE ${STATUS} >= 500 ORDER BY id DESC LIMIT 50`,
    ),
    request_events: q(
      "Events of one request",
      "Every event whose properties.request_id is the one given, in the range (empty: the whole table).",
      `${range(`\n    AND json_extract(t.properties, '$.request_id') = :request_id`)}
SELECT id, created, event, instance, actor_id, properties FROM r ORDER BY id`,
      ["request_id", ...RANGE_PARAMS],
    ),
    instances: q(
      "Instances",
      "The instances that wrote events in the range: the dashboard's instance filter.",
      `${range()}
SELECT instance, count(*) AS events FROM r GROUP BY instance ORDER BY instance`,
    ),
  };
}
