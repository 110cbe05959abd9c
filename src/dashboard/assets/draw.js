// The events dashboard's drawing: uPlot charts (time on x, in UTC) and tables, into a panel.
// dashboard.js asks the stored queries and hands the rows to these (window.efDraw).
/* global uPlot */
window.efDraw = (function () {
  "use strict";
  const charts = new Map();

  const seconds = (bucket) => Date.parse(`${bucket}Z`) / 1000;
  const stepOf = (rows) => (rows.length > 0 ? (rows[0].minutes || 1) * 60 : 60);

  /** x values (bucket starts, in seconds) from the first bucket to the last, none missing. */
  function grid(rows) {
    if (rows.length === 0) return [];
    const step = (rows[0].minutes || 1) * 60;
    const xs = [];
    for (let x = seconds(rows[0].bucket), last = seconds(rows[rows.length - 1].bucket); x <= last; x += step)
      xs.push(x);
    return xs;
  }

  /** Columns of values on the grid; `empty` where a bucket has no row (0 for counts, null for ratios). */
  function columns(rows, keys, empty) {
    const xs = grid(rows);
    const at = new Map(rows.map((row) => [seconds(row.bucket), row]));
    return [xs, ...keys.map((key) => xs.map((x) => (at.has(x) ? at.get(x)[key] : empty)))];
  }

  /**
   * Stacked bars: each series becomes its running sum, drawn from the tallest down, so each bar
   * shows through above the one drawn after it. Returns the series and data in drawing order.
   */
  function stack(series, data) {
    const sums = data[0].map(() => 0);
    const running = data.slice(1).map((ys) => ys.map((y, i) => (sums[i] += y || 0)));
    const order = series.map((_, i) => i).reverse();
    return {
      series: order.map((i) => ({
        ...series[i],
        // The legend shows each series' own value, not the running sum.
        value: (u, v, si, idx) => (idx === null || idx === undefined ? "--" : number(data[i + 1][idx], 2)),
      })),
      data: [data[0], ...order.map((i) => running[i])],
    };
  }

  /** A uPlot chart in the panel; `range` ({ from, to }) is what the x axis spans at least. */
  function chart(panel, series, data, step, range, options = {}) {
    const body = panelBody(panel);
    if (data[0].length === 0) {
      body.innerHTML = '<p class="ef-empty">No rows in this range.</p>';
      return;
    }
    // From the range's start (or the first bucket) to its end (or past the last bucket).
    let min = data[0][0];
    let max = data[0][data[0].length - 1] + step;
    if (range.from) min = Math.min(min, Math.floor(seconds(range.from) / step) * step);
    max = Math.max(max, range.to ? seconds(range.to) : range.from ? Date.now() / 1000 : max);
    const opts = {
      // y from 0: counts, rates and durations read wrong on an axis that starts elsewhere.
      scales: {
        x: { time: true, range: () => [min, max] },
        y: { range: (u, low, high) => [0, high > 0 ? high * 1.1 : 1] },
      },
      width: Math.max(300, body.clientWidth),
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      series: [{}, ...series],
      axes: [{}, { size: 60 }],
      legend: { live: true },
      ...options,
    };
    let plotted = data;
    if (options.stacked) {
      const stacked = stack(series, data);
      plotted = stacked.data;
      opts.series = [{}, ...stacked.series];
    }
    delete opts.stacked;
    charts.get(panel)?.destroy();
    body.innerHTML = "";
    charts.set(panel, new uPlot(opts, plotted, body));
  }

  const area = (label, color) => ({
    label,
    stroke: color,
    fill: color,
    width: 0,
    paths: uPlot.paths.bars({ size: [0.9, 48], align: 1 }),
    points: { show: false },
  });
  const line = (label, color) => ({ label, stroke: color, width: 1.5, spanGaps: false });

  function escapeHtml(value) {
    return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  const number = (value, digits = 0) =>
    value === null || value === undefined ? "–" : Number(value).toLocaleString("en", { maximumFractionDigits: digits });
  const percent = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(2)} %`);

  /** A table; `bar` names the column whose value draws a bar behind the row. */
  function table(panel, rows, cols, bar) {
    const body = panelBody(panel);
    if (rows.length === 0) {
      body.innerHTML = '<p class="ef-empty">No rows in this range.</p>';
      return;
    }
    const top = bar ? Math.max(...rows.map((row) => Number(row[bar]) || 0)) || 1 : 1;
    const head = cols.map((c) => `<th class="${c.num ? "num" : ""}">${escapeHtml(c.label)}</th>`).join("");
    const lines = rows.map((row) => {
      const style = bar
        ? ` style="background: linear-gradient(90deg, #e8eef8 ${(100 * (Number(row[bar]) || 0)) / top}%, transparent 0)"`
        : "";
      const cells = cols.map(
        (c) =>
          `<td class="${c.num ? "num" : "ef-clip"}">${c.html ? c.html(row) : escapeHtml(c.text ? c.text(row) : row[c.key])}</td>`,
      );
      return `<tr${style}>${cells.join("")}</tr>`;
    });
    body.innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${lines.join("")}</tbody></table>`;
  }

  function panelBody(panel) {
    let body = panel.querySelector(".ef-body");
    if (!body) {
      body = document.createElement("div");
      body.className = "ef-body";
      panel.appendChild(body);
    }
    return body;
  }

  return { seconds, stepOf, columns, chart, area, line, escapeHtml, number, percent, table, panelBody };
})();
