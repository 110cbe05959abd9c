// The events dashboard (written by `events-forward dashboard`): each panel asks one stored query
// of this Datasette for JSON and draws it with uPlot (bundled beside this file) through draw.js. Every panel ends
// with data-state="ready" or "error", which the browser tests wait for.
(function () {
  "use strict";
  const root = document.getElementById("events-dashboard");
  const database = root.dataset.database;
  const form = document.getElementById("ef-filters");
  const RANGE_MINUTES = { "15m": 15, "1h": 60, "6h": 360, "24h": 1440, "7d": 10080, "30d": 43200 };
  const STATUS_COLORS = {
    "2xx": "#2e7d32",
    "3xx": "#1565c0",
    "4xx": "#ef6c00",
    "5xx": "#c62828",
    no_status: "#757575",
  };
  const PALETTE = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#ad1457", "#4e342e", "#757575"];
  /** The filters of the last refresh: the charts' x axis spans the range asked for. */
  let current = { from: "", to: "", instance: "" };

  /** ISO to the second, UTC, without a zone: the form the stored queries compare with `created`. */
  const isoSecond = (date) => date.toISOString().slice(0, 19);

  function filters() {
    const range = form.range.value;
    let from = "";
    let to = "";
    if (range === "custom") {
      from = form.from.value;
      to = form.to.value;
    } else if (range !== "all") {
      from = isoSecond(new Date(Date.now() - RANGE_MINUTES[range] * 60_000));
    }
    return { from, to, instance: form.instance.value };
  }

  function queryUrl(name, params, format) {
    const search = new URLSearchParams(params);
    if (format === "json") search.set("_shape", "array");
    return `${database}/${name}${format === "json" ? ".json" : ""}?${search}`;
  }

  async function query(name, params) {
    const response = await fetch(queryUrl(name, params, "json"), { headers: { accept: "application/json" } });
    let body;
    try {
      body = await response.json();
    } catch {
      throw new Error(`${name}: HTTP ${response.status}, not JSON`);
    }
    if (!response.ok || !Array.isArray(body)) {
      throw new Error(`${name}: ${errorText(body && (body.error || body.title)) || `HTTP ${response.status}`}`);
    }
    return body;
  }

  /** Datasette's error may be HTML with the whole query in it (a time-out): its first sentence as text. */
  function errorText(error) {
    if (!error) return "";
    const text = new DOMParser().parseFromString(String(error), "text/html").body.textContent || "";
    if (/took too long/i.test(text))
      return "the query took too long: choose a shorter range, or raise Datasette's sql_time_limit_ms";
    const first = text.trim().split(/\n|(?<=\.)\s/)[0];
    return first.length > 200 ? `${first.slice(0, 200)}…` : first;
  }

  const { stepOf, columns, area, line, escapeHtml, number, percent, table, panelBody } = window.efDraw;
  const chart = (panel, series, data, step, options) =>
    window.efDraw.chart(panel, series, data, step, current, options);

  const ms = (key) => ({ label: key, key, num: true, text: (row) => number(row[key], 1) });
  const when = (row) =>
    String(row.last_seen || row.created || "")
      .slice(0, 19)
      .replace("T", " ");

  const PANELS = {
    summary(panel, rows) {
      const row = rows[0] || {};
      const metric = (label, value) => `<div class="ef-metric"><b>${escapeHtml(value)}</b><span>${label}</span></div>`;
      panel.innerHTML = [
        metric("requests", number(row.requests)),
        metric("custom events", number(row.events)),
        metric("error rate (5xx)", percent(row.error_rate)),
        metric("p95 latency", row.p95 === null || row.p95 === undefined ? "–" : `${number(row.p95, 1)} ms`),
      ].join("");
    },
    requests_per_minute(panel, rows) {
      const keys = ["2xx", "3xx", "4xx", "5xx", "no_status"];
      chart(
        panel,
        keys.map((k) => area(k, STATUS_COLORS[k])),
        columns(rows, keys, 0),
        stepOf(rows),
        { stacked: true },
      );
    },
    latency_per_minute(panel, rows) {
      chart(
        panel,
        [line("p50", PALETTE[2]), line("p95", PALETTE[4]), line("p99", PALETTE[1])],
        columns(rows, ["p50", "p95", "p99"], null),
        stepOf(rows),
      );
    },
    slowest_routes(panel, rows) {
      table(
        panel,
        rows,
        [
          { label: "route", key: "route" },
          { label: "requests", key: "requests", num: true },
          ms("p50"),
          ms("p95"),
          ms("p99"),
        ],
        "p95",
      );
    },
    error_rate_per_minute(panel, rows) {
      const data = columns(rows, ["error_rate"], null);
      data[1] = data[1].map((v) => (v === null ? null : v * 100));
      chart(
        panel,
        [{ ...line("5xx %", STATUS_COLORS["5xx"]), value: (u, v) => (v === null ? "–" : `${v.toFixed(2)} %`) }],
        data,
        stepOf(rows),
      );
    },
    routes_with_most_5xx(panel, rows) {
      table(
        panel,
        rows,
        [
          { label: "route", key: "route" },
          { label: "5xx", key: "errors", num: true },
          { label: "requests", key: "requests", num: true },
          { label: "error rate", key: "error_rate", num: true, text: (row) => percent(row.error_rate) },
        ],
        "errors",
      );
    },
    aborted_per_minute(panel, rows) {
      chart(
        panel,
        // Bars: those that left before any status are a part of the aborted, drawn over them.
        [area("aborted", PALETTE[3]), area("before any status", STATUS_COLORS.no_status)],
        columns(rows, ["aborted", "no_status"], 0),
        stepOf(rows),
      );
    },
    events_per_minute(panel, rows) {
      const parsed = rows.map((row) => ({ ...row, ...JSON.parse(row.per_minute) }));
      const names = [...new Set(rows.flatMap((row) => Object.keys(JSON.parse(row.per_minute))))].sort();
      chart(
        panel,
        names.map((name, i) => area(name, PALETTE[i % PALETTE.length])),
        columns(parsed, names, 0),
        stepOf(rows),
        { stacked: true },
      );
    },
    top_events(panel, rows) {
      table(
        panel,
        rows,
        [
          { label: "event", key: "event" },
          { label: "events", key: "events", num: true },
          { label: "actors", key: "actors", num: true },
          { label: "last seen", key: "last_seen", text: when },
        ],
        "events",
      );
    },
    top_actors(panel, rows) {
      table(
        panel,
        rows,
        [
          { label: "actor", key: "actor_id" },
          { label: "events", key: "events", num: true },
          { label: "requests", key: "requests", num: true },
          { label: "last seen", key: "last_seen", text: when },
        ],
        "events",
      );
    },
    latest_5xx(panel, rows) {
      const link = (row) => {
        // Every event of that request happened within its duration, before its request event.
        const end = Date.parse(row.created);
        const params = {
          request_id: row.request_id,
          from: isoSecond(new Date(end - (Number(row.duration_ms) || 0) - 60_000)),
          to: isoSecond(new Date(end + 60_000)),
          instance: "",
        };
        return `<a href="${escapeHtml(queryUrl("request_events", params))}">${escapeHtml(row.request_id)}</a>`;
      };
      table(panel, rows, [
        { label: "time", key: "created", text: when },
        { label: "status", key: "status", num: true },
        { label: "method", key: "method" },
        { label: "route", key: "route" },
        { label: "path", key: "path" },
        { label: "ms", key: "duration_ms", num: true, text: (row) => number(row.duration_ms, 1) },
        { label: "instance", key: "instance" },
        { label: "actor", key: "actor_id" },
        { label: "request (all its events)", key: "request_id", html: link },
      ]);
    },
  };

  async function load(panel, params) {
    const name = panel.dataset.panel;
    panel.dataset.state = "loading";
    const title = panel.querySelector("h2");
    if (title && !title.querySelector("a")) {
      title.insertAdjacentHTML("beforeend", '<a class="ef-source" title="this panel\'s stored query">SQL</a>');
    }
    if (title) title.querySelector("a").href = queryUrl(name, params);
    try {
      PANELS[name](panel, await query(name, params));
      panel.dataset.state = "ready";
    } catch (error) {
      panelBody(panel).innerHTML = `<p class="ef-error">${escapeHtml(error.message)}</p>`;
      panel.dataset.state = "error";
    }
  }

  async function instances(params) {
    const select = form.instance;
    const chosen = select.value;
    try {
      const rows = await query("instances", { ...params, instance: "" });
      const names = rows.map((row) => row.instance).filter((name) => name !== null && name !== "");
      if (chosen && !names.includes(chosen)) names.push(chosen);
      select.innerHTML =
        '<option value="">all</option>' + names.map((n) => `<option>${escapeHtml(n)}</option>`).join("");
      select.value = chosen;
    } catch (error) {
      console.warn("events dashboard: the instance list did not load:", error.message);
    }
  }

  function refresh() {
    const params = filters();
    current = params;
    const state = new URLSearchParams({
      range: form.range.value,
      ...(form.range.value === "custom" ? { from: params.from, to: params.to } : {}),
      instance: params.instance,
    });
    history.replaceState(null, "", `?${state}`);
    form.classList.toggle("ef-show-custom", form.range.value === "custom");
    void instances(params);
    return Promise.all([...root.querySelectorAll("[data-panel]")].map((panel) => load(panel, params)));
  }

  // The filters live in the page's query string, so a link shows the same view.
  const initial = new URLSearchParams(location.search);
  if (initial.get("range") && [...form.range.options].some((o) => o.value === initial.get("range")))
    form.range.value = initial.get("range");
  form.from.value = initial.get("from") || "";
  form.to.value = initial.get("to") || "";
  if (initial.get("instance")) {
    form.instance.insertAdjacentHTML("beforeend", `<option>${escapeHtml(initial.get("instance"))}</option>`);
    form.instance.value = initial.get("instance");
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void refresh();
  });
  form.range.addEventListener("change", () => void refresh());
  form.instance.addEventListener("change", () => void refresh());
  void refresh();
})();
