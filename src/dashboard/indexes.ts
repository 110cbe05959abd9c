/**
 * The dashboard's indexes (docs/dashboard.md, "How the numbers are computed"): their expressions
 * must be the queries' own, character for character, for SQLite to read them from the index.
 */

/** The request fields the queries read (`t`: the events table), each exactly as an index holds it. */
export const FIELDS = {
  status: "json_extract(t.properties, '$.status')",
  duration: "json_extract(t.properties, '$.duration_ms')",
  route: "coalesce(json_extract(t.properties, '$.route'), '(no route)')",
} as const;
export type Field = keyof typeof FIELDS;

/**
 * The dashboard's two indexes: `_requests` lets the request queries read `status`, `duration_ms`
 * and `route` without parsing JSON, in `created` order; `_routes` holds each route's rows in
 * `created` order, for the percentiles by route. The embedded store creates them with its table;
 * the owner of a Datasette that receives events runs this once (docs/dashboard.md).
 */
/**
 * Both index only the request events (partial indexes): a custom event costs nothing more to
 * write. A query reads them where its WHERE says `t.event = 'request'`.
 */
const REQUESTS_ONLY = "WHERE event = 'request'";

export function dashboardIndexesSql(table: string): string {
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  // An index names the table's columns bare; `route` in the requests index without its coalesce
  // (SQLite matches the inner expression).
  const column = (sql: string) => sql.replaceAll("t.properties", "properties");
  const rawRoute = "json_extract(t.properties, '$.route')";
  return [
    `CREATE INDEX IF NOT EXISTS ${quote(`${table}_requests`)} ON ${quote(table)} (created, instance, id, ${column(FIELDS.status)}, ${column(FIELDS.duration)}, ${column(rawRoute)}) ${REQUESTS_ONLY}`,
    `CREATE INDEX IF NOT EXISTS ${quote(`${table}_routes`)} ON ${quote(table)} (${column(FIELDS.route)}, created, instance, id, ${column(FIELDS.duration)}) ${REQUESTS_ONLY}`,
  ].join(";\n");
}
