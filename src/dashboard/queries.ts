/**
 * The dashboard's stored queries: one per panel, over the rows this package writes (`created`
 * ISO 8601 text in UTC, `properties` JSON, `id` a ULID primary key). Each takes `from`, `to`
 * (ISO times, empty for the first and the last row) and `instance` (empty for all), so the page
 * and a person in Datasette ask the same thing.
 */

import { FIELDS, type Field } from "./indexes.js";

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
 * 30 days, else a day), so a chart has at most ~720 points.
 */
function spanCtes(table: string): string {
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
)`;
}

/**
 * The rows of the table from `lo` to `hi` (SQL expressions over span's columns), found through
 * the requests index where the table has it (`event`, `created`: see dashboardIndexesSql) or else
 * through the id (a ULID: time-ordered, the primary key), and then checked on `created`.
 */
function rowsIn(table: string, [lo, hi, loId, hiId]: string[], where: string, outer = ""): string {
  return `FROM ${outer}"${table}" AS t
  WHERE t.id >= ${loId} AND t.id < ${hiId}
    AND t.created >= ${lo} AND t.created < ${hi}
    AND (coalesce(:instance, '') = '' OR t.instance = :instance)${where}`;
}

/**
 * `r`: the rows in range with their bucket, found through the requests index where the table has
 * it (`event`, `created`: see dashboardIndexesSql) or else through the id (a ULID: time-ordered, the
 * primary key), and then checked on `created`. With `fields` (request fields read once, from the
 * index's values where it has them: no JSON parsed), `r` is a co-routine that reads them in its own
 * loop (NOT MATERIALIZED, LIMIT -1 OFFSET 0): flattened into a GROUP BY, SQLite would sort whole
 * rows and parse `properties` after the sort. Without, it is every column, for SQLite to flatten.
 */
function rangeCtes(table: string, where = "", fields: Field[] = []): string {
  const t = `"${table}"`;
  const columns = fields.length === 0 ? "t.*" : [...fields.map((f) => `${FIELDS[f]} AS ${f}`)].join(", ");
  return `${spanCtes(table)},
r AS ${fields.length === 0 ? "" : "NOT MATERIALIZED "}(
  SELECT ${columns},
    substr(t.created, 1, span.width) || substr('0000-01-01T00:00:00', span.width + 1) AS bucket, span.minutes
  FROM span JOIN ${t} AS t ON t.id >= span.lo_id AND t.id < span.hi_id
  WHERE t.created >= span.lo AND t.created < span.hi
    AND (coalesce(:instance, '') = '' OR t.instance = :instance)${where}${fields.length === 0 ? "" : "\n  LIMIT -1 OFFSET 0"}
)`;
}

const REQUESTS = `\n    AND t.event = 'request'`;
const STATUS = "json_extract(properties, '$.status')";
const DURATION = "json_extract(properties, '$.duration_ms')";
const ROUTE = "coalesce(json_extract(properties, '$.route'), '(no route)')";
/** Nearest-rank percentile: the value at rank ceil(p/100 * n) of the sorted durations. */
const rankOf = (p: number, n = "n") => `(${p} * ${n} + 99) / 100`;
/** The p-th percentile of `durations`, a JSON array of `n` durations sorted ascending. */
const percentile = (p: number) => `json_extract(durations, '$[' || (${rankOf(p)} - 1) || ']') AS p${p}`;
const PERCENTILES = [50, 95, 99].map(percentile).join(",\n  ");

/**
 * The durations of the requests from `lo` to `hi`, sorted, as one JSON array: an aggregate
 * reads a FROM subquery in its ORDER BY (SQLite keeps that ORDER BY for json_group_array, as it
 * does for group_concat), so each group sorts only its own rows, and no window function runs.
 */
function sortedDurations(table: string, bounds: string[], where = ""): string {
  return `(SELECT json_group_array(duration) FROM (
    SELECT json_extract(t.properties, '$.duration_ms') AS duration
    ${rowsIn(table, bounds, `${REQUESTS}${where}\n    AND duration IS NOT NULL`)}
    ORDER BY duration))`;
}

/** span's bounds as constants (scalar subqueries, computed once), for a subquery with no join. */
const SPAN_BOUNDS = ["lo", "hi", "lo_id", "hi_id"].map((column) => `(SELECT ${column} FROM span)`);

/**
 * `buckets`: every bucket of the range (empty ones too: a query drops them), each with its bounds
 * clipped to the range and their ULID prefixes, for a subquery per bucket that reads only its
 * rows, in `created` order from the requests index: no sort of the whole range by bucket.
 */
function bucketCtes(table: string): string {
  return `${spanCtes(table)},
starts(bucket, next) AS (
  SELECT start, strftime('%Y-%m-%dT%H:%M:%S', start, '+' || minutes || ' minutes')
  FROM (SELECT substr(lo, 1, width) || substr('0000-01-01T00:00:00', width + 1) AS start, minutes FROM span)
  UNION ALL
  SELECT next, strftime('%Y-%m-%dT%H:%M:%S', next, '+' || minutes || ' minutes') FROM starts, span WHERE next < span.hi
),
buckets AS MATERIALIZED (
  SELECT bucket, b_lo, b_hi,
    ${ulidTimeSql(`julianday(b_lo) - ${ID_MARGIN_MINUTES} / 1440.0`)} AS lo_id,
    ${ulidTimeSql(`julianday(b_hi) + ${ID_MARGIN_MINUTES} / 1440.0`)} AS hi_id
  FROM (SELECT bucket, max(bucket, span.lo) AS b_lo, min(next, span.hi) AS b_hi FROM starts, span)
)`;
}

/** A bucket's own bounds, for rowsIn. */
const BUCKET_BOUNDS = ["b_lo", "b_hi", "lo_id", "hi_id"];

const perMinute = (expr: string) => `round(${expr} * 1.0 / minutes, 3)`;

export function storedQueries(table: string): Record<string, StoredQuery> {
  const range = (where = "", fields: Field[] = []) => rangeCtes(table, where, fields);
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
      `${spanCtes(table)},
req AS MATERIALIZED (
  SELECT count(*) AS n, total(coalesce(${FIELDS.status}, 0) >= 500) AS failed
  ${rowsIn(table, SPAN_BOUNDS, REQUESTS)}
)
SELECT n AS requests,
  (SELECT count(*) ${rowsIn(table, SPAN_BOUNDS, `\n    AND t.event <> 'request'`)}) AS events,
  round(failed / nullif(n, 0), 4) AS error_rate,
  (SELECT ${FIELDS.duration} AS duration ${rowsIn(table, SPAN_BOUNDS, REQUESTS)}
    ORDER BY duration DESC LIMIT 1 OFFSET (SELECT n - ${rankOf(95)} FROM req)) AS p95
FROM req`,
    ),
    requests_per_minute: q(
      "Requests per minute by status class",
      "Requests per minute in each bucket, by status class; no_status: the client left before any status went out.",
      `${bucketCtes(table)},
counted AS MATERIALIZED (
  SELECT bucket, (
    SELECT json_array(count(*), total(class = 2), total(class = 3), total(class = 4), total(class = 5))
    FROM (SELECT CAST(${FIELDS.status} AS INTEGER) / 100 AS class ${rowsIn(table, BUCKET_BOUNDS, REQUESTS)})
  ) AS c
  FROM buckets
),
classes AS (
  SELECT bucket, json_extract(c, '$[0]') AS n, json_extract(c, '$[1]') AS c2, json_extract(c, '$[2]') AS c3, json_extract(c, '$[3]') AS c4, json_extract(c, '$[4]') AS c5 FROM counted
)
SELECT bucket, minutes,
  ${perMinute("c2")} AS "2xx",
  ${perMinute("c3")} AS "3xx",
  ${perMinute("c4")} AS "4xx",
  ${perMinute("c5")} AS "5xx",
  ${perMinute("(n - c2 - c3 - c4 - c5)")} AS no_status
FROM classes, span WHERE n > 0 ORDER BY bucket`,
    ),
    latency_per_minute: q(
      "Latency percentiles per minute",
      "p50, p95 and p99 of duration_ms in each bucket (nearest rank over the sorted durations).",
      `${bucketCtes(table)},
sorted AS MATERIALIZED (
  SELECT bucket, ${sortedDurations(table, BUCKET_BOUNDS)} AS durations FROM buckets
)
SELECT bucket, (SELECT minutes FROM span) AS minutes, n AS requests,
  ${PERCENTILES}
FROM (SELECT bucket, durations, json_array_length(durations) AS n FROM sorted) WHERE n > 0 ORDER BY bucket`,
    ),
    slowest_routes: q(
      "Slowest routes (p95)",
      "The 10 route patterns with the highest p95 duration_ms over the range.",
      // With the routes index: each route found by one seek (the next after the last one) and its
      // sorted durations read from its rows in range. Without it, one pass over the range and window
      // functions (reading the range once per route would cost more), through the id (`+t.event`:
      // an automatic index on event would scan the whole table). `indexed`, the outer loop of both,
      // makes the one that does not apply read nothing.
      `${spanCtes(table)},
indexed AS (SELECT count(*) AS yes FROM sqlite_master WHERE type = 'index' AND name = '${table}_routes'),
seek(route) AS (
  SELECT (SELECT min(${FIELDS.route}) FROM "${table}" AS t WHERE t.event = 'request') FROM indexed WHERE yes
  UNION ALL
  SELECT (SELECT min(${FIELDS.route}) FROM "${table}" AS t WHERE t.event = 'request' AND ${FIELDS.route} > seek.route)
  FROM seek WHERE seek.route IS NOT NULL
),
sorted AS MATERIALIZED (
  SELECT route, ${sortedDurations(table, ["span.lo", "span.hi", "span.lo_id", "span.hi_id"], `\n    AND ${FIELDS.route} = seek.route`)} AS durations
  FROM seek, span WHERE seek.route IS NOT NULL
),
ranked AS (
  SELECT grp, duration,
    row_number() OVER (PARTITION BY grp ORDER BY duration) AS rank,
    count(*) OVER (PARTITION BY grp) AS n
  FROM (
    SELECT ${FIELDS.route} AS grp, ${FIELDS.duration} AS duration
    ${rowsIn(table, SPAN_BOUNDS, `\n    AND +t.event = 'request' AND NOT indexed.yes AND duration IS NOT NULL`, "indexed CROSS JOIN ")}
  )
)
SELECT route, n AS requests,
  ${PERCENTILES}
FROM (SELECT route, durations, json_array_length(durations) AS n FROM sorted) WHERE n > 0
UNION ALL
SELECT grp, max(n),
  ${[50, 95, 99].map((p) => `max(CASE WHEN rank = ${rankOf(p)} THEN duration END)`).join(",\n  ")}
FROM ranked GROUP BY grp
ORDER BY p95 DESC, route LIMIT 10`,
    ),
    error_rate_per_minute: q(
      "Error rate per minute",
      "The share of requests answered 5xx in each bucket.",
      `${bucketCtes(table)},
counted AS MATERIALIZED (
  SELECT bucket, (
    SELECT json_array(count(*), sum(coalesce(${FIELDS.status}, 0) >= 500)) ${rowsIn(table, BUCKET_BOUNDS, REQUESTS)}
  ) AS c
  FROM buckets
)
SELECT bucket, minutes, requests, errors, round(errors * 1.0 / requests, 4) AS error_rate
FROM (SELECT bucket, json_extract(c, '$[0]') AS requests, json_extract(c, '$[1]') AS errors FROM counted), span
WHERE requests > 0 ORDER BY bucket`,
    ),
    routes_with_most_5xx: q(
      "Routes with the most 5xx",
      "The 10 route patterns with the most 5xx answers over the range.",
      `${range(REQUESTS, ["status", "route"])}
SELECT route, sum(failed) AS errors, count(*) AS requests,
  round(sum(failed) * 1.0 / count(*), 4) AS error_rate
FROM (SELECT route, coalesce(status, 0) >= 500 AS failed FROM r)
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
      `${range(`\n    AND +t.event = 'request'`)}
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
