// nbreports pages: each page is drawn from the JSON API under <root>/api.
// Everything from the API is put into the DOM as text (never innerHTML): titles, parameters and
// scraps come from notebooks. The notebook's own HTML only ever runs in a sandboxed frame.
"use strict";

const body = document.body;
const ROOT = body.dataset.root;
const AIRFLOW = body.dataset.airflow;
const app = document.getElementById("app");

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

async function api(path, params) {
  const url = new URL(ROOT + "/api" + path, location.origin);
  for (const [k, v] of Object.entries(params || {})) if (v !== "" && v != null) url.searchParams.set(k, v);
  const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error(typeof data.detail === "string" ? data.detail : resp.statusText);
    err.status = resp.status;
    throw err;
  }
  return data;
}

const enc = encodeURIComponent;

// Airflow frames these pages with sandbox="allow-scripts allow-same-origin ..." and no
// allow-top-navigation, so a link cannot leave the frame. Being same-origin, the page asks
// Airflow's router to move instead: push the URL on the top window's history and tell it.
function goAirflow(ev) {
  const url = ev.currentTarget.getAttribute("href");
  try {
    if (window.top === window) return;
    const top = window.top;
    const idx = (top.history.state && typeof top.history.state.idx === "number") ? top.history.state.idx + 1 : 0;
    top.history.pushState({ usr: null, key: Math.random().toString(36).slice(2, 10), idx }, "", url);
    top.dispatchEvent(new PopStateEvent("popstate", { state: top.history.state }));
    ev.preventDefault();
  } catch (err) {
    // not framed by Airflow: an ordinary link
  }
}
const airflowLink = (path, text, attrs) => h("a", { href: AIRFLOW + path, onclick: goAirflow, "data-airflow": true,
  text, ...(attrs || {}) });
const reportUrl = (r) => `${ROOT}/reports/${enc(r)}`;
const runUrl = (r, id) => `${reportUrl(r)}/runs/${enc(id)}`;
const htmlUrl = (r, id) => `${ROOT}/content/reports/${enc(r)}/runs/${enc(id)}/report.html`;

function when(ts) {
  if (!ts) return "—";
  const d = new Date(ts);
  return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}
function seconds(s) {
  if (s === null || s === undefined) return "—";
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
function bytes(n) {
  if (!n) return "—";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
const badge = (status) => h("span", { class: `badge ${status || "none"}`, text: status || "never run" });
const json = (v) => (typeof v === "string" ? v : JSON.stringify(v));
const short = (sha) => (sha ? sha.slice(0, 12) : "—");

function header(title, crumbs, ...actions) {
  return h("header", {},
    h("nav", { class: "crumbs" }, h("a", { href: `${ROOT}/`, text: "Reports" }),
      ...crumbs.map(([text, href]) => [" / ", href ? h("a", { href, text }) : h("span", { text })])),
    h("div", { class: "title-row" }, h("h1", { text: title }), h("div", { class: "actions" }, ...actions)));
}

function table(columns, rows, empty) {
  if (!rows.length) return h("p", { class: "muted", text: empty || "Nothing yet." });
  return h("table", {},
    h("thead", {}, h("tr", {}, columns.map(([label]) => h("th", { text: label })))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row)))))));
}

function fail(err) {
  app.replaceChildren(h("div", { class: "error" }, h("strong", { text: `Error ${err.status || ""}` }), " ",
    err.message));
}

// ---- catalog -------------------------------------------------------------------------------
async function catalogPage() {
  const params = new URLSearchParams(location.search);
  const filters = { q: params.get("q") || "", owner: params.get("owner") || "", tag: params.get("tag") || "" };
  const all = await api("/reports");
  const data = filters.q || filters.owner || filters.tag ? await api("/reports", filters) : all;
  const owners = [...new Set(all.reports.map((r) => r.owner))].sort();
  const tags = [...new Set(all.reports.flatMap((r) => r.tags))].sort();
  const select = (name, values) => h("select", { name, "aria-label": name },
    h("option", { value: "", text: `any ${name}` }),
    values.map((v) => h("option", { value: v, text: v, selected: filters[name] === v })));
  const form = h("form", { class: "filters", method: "get" },
    h("input", { type: "search", name: "q", value: filters.q, placeholder: "Search name, title, owner, tag",
      "aria-label": "search" }),
    select("owner", owners), select("tag", tags), h("button", { type: "submit", text: "Filter" }));
  const rows = table([
    ["Report", (r) => [h("a", { href: reportUrl(r.name), class: "report-link", text: r.title }),
      h("div", { class: "muted small", text: r.name })]],
    ["Owner / team", (r) => `${r.owner} / ${r.team}`],
    ["Schedule", (r) => r.schedule || (r.triggered_by_reports.length ? `after ${r.triggered_by_reports.join(", ")}`
      : "manual")],
    ["Last run", (r) => r.last_run ? [badge(r.last_run.status), " ",
      h("a", { href: runUrl(r.name, r.last_run.run_id), text: when(r.last_run.started_at) })] : badge(null)],
    ["Success rate", (r) => r.success_rate === null ? "—"
      : `${Math.round(r.success_rate * 100)}% of ${r.runs_finished}`],
    ["Latest report", (r) => r.last_published
      ? h("a", { href: runUrl(r.name, r.last_published.run_id), text: "open" }) : "—"],
    ["Tags", (r) => r.tags.map((t) => h("a", { class: "tag", href: `?tag=${enc(t)}`, text: t }))],
  ], data.reports, "No report matches.");
  app.replaceChildren(header("Reports", []), form,
    h("p", { class: "muted", text: `${data.total} of ${all.total} reports` }), rows);
}

// ---- report --------------------------------------------------------------------------------
function durationChart(runs) {
  const points = runs.filter((r) => r.duration_s != null).slice().reverse();
  if (points.length < 2) return h("p", { class: "muted", text: "The chart appears after two finished runs." });
  const W = 760, H = 160, pad = 28;
  const max = Math.max(...points.map((r) => r.duration_s)) || 1;
  const step = (W - 2 * pad) / Math.max(points.length - 1, 1);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Duration and status of recent runs");
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text) el.textContent = text;
    svg.append(el);
    return el;
  };
  const y = (d) => H - pad - (d / max) * (H - 2 * pad);
  add("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: "axis" });
  add("text", { x: 2, y: pad - 8, class: "axis-label" }, `${max.toFixed(1)} s`);
  add("polyline", { points: points.map((r, i) => `${pad + i * step},${y(r.duration_s)}`).join(" "), class: "line" });
  points.forEach((r, i) => {
    const dot = add("circle", { cx: pad + i * step, cy: y(r.duration_s), r: 4, class: `dot ${r.status}` });
    const title = document.createElementNS(ns, "title");
    title.textContent = `${r.run_id}: ${r.status}, ${seconds(r.duration_s)}`;
    dot.append(title);
  });
  return svg;
}

function paramTable(schema) {
  const rows = Object.entries(schema.properties || {}).map(([name, s]) => ({ name, ...s }));
  return table([
    ["Parameter", (p) => h("code", { text: p.name })],
    ["Type", (p) => json(p.format ? `${p.type} (${p.format})` : p.type || "any")],
    ["Default", (p) => h("code", { text: json(p.default) })],
    ["Allowed", (p) => [p.enum ? `one of ${p.enum.map(json).join(", ")}` : "",
      p.minimum != null ? ` ≥ ${p.minimum}` : "", p.maximum != null ? ` ≤ ${p.maximum}` : ""]],
    ["Description", (p) => [p.title && p.title !== p.name ? h("strong", { text: `${p.title}. ` }) : "",
      p.description || ""]],
  ], rows, "This report has no parameters.");
}

async function reportPage() {
  const name = body.dataset.report;
  let report;
  try {
    report = await api(`/reports/${enc(name)}`);
  } catch (err) {
    if (err.status === 404) {
      app.replaceChildren(header(name, [[name]]),
        h("p", { class: "muted", text: `${name} is not an nbreports report (or has not been loaded yet).` }));
      return;
    }
    throw err;
  }
  const state = { filters: { status: "", notebook_version: "", triggered_by: "" }, cursors: [null], selected: [],
    started: {} };
  const history = h("section", { id: "history" });
  const chart = h("div", { class: "chart-box" });
  const compareBtn = h("button", { type: "button", id: "compare", disabled: true, text: "Compare selected runs",
    onclick: () => {  // older run as the base, newer as the other
      const [a, b] = state.selected.slice().sort((x, y) => state.started[x].localeCompare(state.started[y]));
      location.href = `${reportUrl(name)}/compare?base=${enc(a)}&other=${enc(b)}`;
    } });

  async function load() {
    const cursor = state.cursors[state.cursors.length - 1];
    const page = await api(`/reports/${enc(name)}/runs`, { ...state.filters, cursor, limit: 25 });
    if (state.cursors.length === 1) chart.replaceChildren(durationChart(page.items));
    for (const r of page.items) state.started[r.run_id] = r.started_at;
    const toggle = (id) => (ev) => {
      state.selected = ev.target.checked ? [...state.selected, id].slice(-2) : state.selected.filter((x) => x !== id);
      history.querySelectorAll("input.pick").forEach((box) => { box.checked = state.selected.includes(box.value); });
      compareBtn.disabled = state.selected.length !== 2;
    };
    const rows = table([
      ["", (r) => h("input", { type: "checkbox", class: "pick", value: r.run_id, "aria-label": `select ${r.run_id}`,
        checked: state.selected.includes(r.run_id), onchange: toggle(r.run_id) })],
      ["Run", (r) => h("a", { href: runUrl(name, r.run_id), class: "run-link", text: r.run_id })],
      ["Status", (r) => [badge(r.status), r.cache_hit_of ? h("span", { class: "badge cached", text: "cache hit" }) : ""]],
      ["Started", (r) => when(r.started_at)],
      ["Duration", (r) => seconds(r.duration_s)],
      ["Parameters", (r) => h("code", { class: "params", text: Object.entries(r.parameters || {})
        .map(([k, v]) => `${k}=${json(v)}`).join("\n") })],
      ["Notebook", (r) => h("code", { title: r.notebook_version, text: short(r.notebook_version) })],
      ["Executor", (r) => [r.executor, r.profile ? ` / ${r.profile}` : ""]],
      ["Triggered by", (r) => r.triggered_by || "—"],
      ["Links", (r) => [r.html_uri ? h("a", { href: runUrl(name, r.run_id), text: "report" }) : "",
        r.dag_run_id ? [" · ", airflowLink(`/dags/${enc(r.dag_id)}/runs/${enc(r.dag_run_id)}`, "Airflow")] : ""]],
    ], page.items, "No runs match.");
    const older = h("button", { type: "button", text: "Older →", disabled: !page.next_cursor,
      onclick: () => { state.cursors.push(page.next_cursor); load().catch(fail); } });
    const newer = h("button", { type: "button", text: "← Newer", disabled: state.cursors.length === 1,
      onclick: () => { state.cursors.pop(); load().catch(fail); } });
    const first = (state.cursors.length - 1) * page.limit;
    history.replaceChildren(rows, h("div", { class: "pager" }, newer,
      h("span", { class: "muted", text: page.total ? `${first + 1}–${first + page.items.length} of ${page.total.toLocaleString("en")}${page.total_exact ? "" : "+"}` : "" }),
      older, compareBtn));
  }

  const statusSel = h("select", { "aria-label": "status", onchange: (ev) => { state.filters.status = ev.target.value;
    state.cursors = [null]; load().catch(fail); } },
  ["", "success", "failed", "running"].map((s) => h("option", { value: s, text: s || "any status" })));
  const versionInput = h("input", { type: "search", placeholder: "notebook version (sha prefix)", "aria-label": "version",
    onchange: (ev) => { state.filters.notebook_version = ev.target.value.trim(); state.cursors = [null]; load().catch(fail); } });

  const versions = await api(`/reports/${enc(name)}/versions`);
  const vSection = h("section", {}, h("h2", { text: "Notebook versions" }), table([
    ["Version", (v) => h("code", { title: v.sha256, text: short(v.sha256) })],
    ["First seen", (v) => when(v.created_at)],
    ["Runs", (v) => v.runs],
    ["Last run", (v) => when(v.last_run_at)],
    ["Compare", (v, i) => {
      const idx = versions.versions.indexOf(v);
      const prev = versions.versions[idx + 1];
      return prev ? h("a", { href: `${reportUrl(name)}/versions/compare?base=${prev.sha256}&other=${v.sha256}`,
        text: `diff with ${short(prev.sha256)}` }) : "first version";
    }],
  ], versions.versions, "No version has run yet."));

  const rate = report.success_rate === null ? "—" : `${Math.round(report.success_rate * 100)}%`;
  app.replaceChildren(
    header(report.title, [[report.name]],
      airflowLink(`/dags/${enc(name)}`, "Run with parameters", { class: "button primary", id: "run-with-parameters",
        title: "Opens the DAG in Airflow: press Trigger to fill in the parameters" }),
      report.last_published ? h("a", { class: "button", href: runUrl(name, report.last_published.run_id),
        text: "Latest report" }) : ""),
    h("p", { class: "description", text: report.description || "" }),
    h("dl", { class: "facts" },
      h("dt", { text: "Owner / team" }), h("dd", { text: `${report.owner} / ${report.team}` }),
      h("dt", { text: "Schedule" }), h("dd", { text: report.schedule || "manual" }),
      h("dt", { text: "Executor" }), h("dd", { text: report.executor }),
      h("dt", { text: "Success rate" }), h("dd", { text: rate }),
      h("dt", { text: "Tags" }), h("dd", {}, report.tags.map((t) => h("span", { class: "tag", text: t })))),
    h("section", {}, h("h2", { text: "Parameters" }), paramTable(report.parameter_schema)),
    h("section", {}, h("h2", { text: "Duration and status" }), chart),
    h("section", {}, h("h2", { text: "Run history" }), h("div", { class: "filters" }, statusSel, versionInput), history),
    vSection);
  await load();
}

// ---- run -----------------------------------------------------------------------------------
async function runPage() {
  const name = body.dataset.report;
  const path = body.dataset.run ? `/reports/${enc(name)}/runs/${enc(body.dataset.run)}`
    : `/reports/${enc(name)}/dag-runs/${enc(body.dataset.dagRun)}`;
  let run;
  try {
    run = await api(path);
  } catch (err) {
    if (err.status !== 404 || !body.dataset.dagRun) throw err;
    app.replaceChildren(header(name, [[name, reportUrl(name)], [body.dataset.dagRun]]),
      h("p", { class: "muted", id: "waiting", text: "This DAG run has not recorded a report run yet; this page refreshes." }));
    setTimeout(() => runPage().catch(fail), 3000);
    return;
  }
  const links = [];
  if (run.has_output) links.push(h("a", { class: "button", id: "download", href: `${ROOT}/api/reports/${enc(name)}/runs/${enc(run.run_id)}/output.ipynb`, text: "Download notebook" }));
  if (run.airflow.dag_run) links.push(airflowLink(run.airflow.dag_run, "Airflow run", { class: "button" }));
  const logs = ["prepare", "execute", "publish"].filter((t) => run.airflow[`log_${t}`])
    .map((t) => airflowLink(run.airflow[`log_${t}`], `${t} log`));
  const scraps = Object.entries(run.scraps || {}).map(([key, value]) => ({ key, value }));
  const frame = run.has_html
    ? h("iframe", { id: "report-frame", title: "Published report", sandbox: body.dataset.sandbox,
      referrerpolicy: "no-referrer", src: htmlUrl(name, run.run_id) })
    : h("p", { class: "muted", text: run.status === "running" ? "The run is still going; this page refreshes." : "No published HTML." });
  app.replaceChildren(
    header(`${name} · ${run.run_id}`, [[name, reportUrl(name)], [run.run_id]], badge(run.status), ...links),
    run.error ? h("div", { class: "error" }, h("strong", { text: `Failed${run.failed_cell != null ? ` in cell ${run.failed_cell}` : ""}: ` }), run.error) : "",
    h("div", { class: "two-col" },
      h("dl", { class: "facts" },
        h("dt", { text: "Parameters" }), h("dd", {}, h("code", { id: "run-parameters", text: JSON.stringify(run.parameters, null, 1) })),
        h("dt", { text: "Notebook version" }), h("dd", {}, h("code", { title: run.notebook_version, text: short(run.notebook_version) })),
        h("dt", { text: "Executor / kernel" }), h("dd", { text: `${run.executor} / ${run.kernel || "—"}${run.profile ? ` / ${run.profile}` : ""}` }),
        h("dt", { text: "Started" }), h("dd", { text: when(run.started_at) }),
        h("dt", { text: "Ended" }), h("dd", { text: when(run.ended_at) }),
        h("dt", { text: "Duration (execution)" }), h("dd", { text: `${seconds(run.duration_s)} (${seconds(run.execution_s)})` }),
        h("dt", { text: "Peak memory" }), h("dd", { text: bytes(run.peak_memory_bytes) }),
        h("dt", { text: "Triggered by" }), h("dd", { text: run.triggered_by || "—" }),
        h("dt", { text: "Cache" }), h("dd", { text: run.cache_hit_of ? `reused run ${run.cache_hit_of}` : "executed" }),
        h("dt", { text: "Logs" }), h("dd", {}, logs.length ? logs.flatMap((a, i) => (i ? [" · ", a] : [a])) : "—")),
      h("section", {}, h("h2", { text: "Scraps" }), table([
        ["Name", (s) => h("code", { text: s.key })], ["Value", (s) => h("code", { class: "params", text: json(s.value) })],
      ], scraps, "No scraps."))),
    h("section", {}, h("h2", { text: "Report" }), frame));
  if (run.status === "running") setTimeout(() => runPage().catch(fail), 3000);
}

// ---- compare -------------------------------------------------------------------------------
function diffTable(rows, label) {
  return table([
    [label, (r) => h("code", { text: r.key })],
    ["Base", (r) => h("code", { text: r.change === "added" ? "—" : json(r.base) })],
    ["Other", (r) => h("code", { text: r.change === "removed" ? "—" : json(r.other) })],
    ["", (r) => h("span", { class: `change ${r.change}`, text: r.change })],
  ], rows, "Nothing to compare.");
}

function diffText(diff) {
  if (diff.error) return h("div", { class: "error", text: diff.error });
  if (diff.identical) return h("p", { class: "muted", id: "nbdiff", text: "The notebooks are identical." });
  const pre = h("pre", { class: "nbdiff", id: "nbdiff" });
  for (const line of diff.text.split("\n")) {
    const t = line.trimStart();
    const cls = line.startsWith("##") ? "hunk" : t.startsWith("+") || t.startsWith(">") ? "add"
      : t.startsWith("-") || t.startsWith("<") ? "del" : "";
    pre.append(h("span", { class: cls, text: line + "\n" }));
  }
  return pre;
}

async function comparePage() {
  const name = body.dataset.report;
  const data = await api(`/reports/${enc(name)}/compare`, { base: body.dataset.base, other: body.dataset.other });
  const side = (label, r) => h("div", { class: "card" }, h("div", { class: "muted", text: label }),
    h("a", { href: runUrl(name, r.run_id), text: r.run_id }), " ", badge(r.status),
    h("div", { class: "small", text: `${when(r.started_at)} · ${seconds(r.duration_s)} · notebook ${short(r.notebook_version)}` }));
  const sum = (s) => `${s.changed} changed, ${s.added} added, ${s.removed} removed, ${s.same} same`;
  app.replaceChildren(
    header(`Compare runs of ${name}`, [[name, reportUrl(name)], ["compare"]]),
    h("div", { class: "two-col" }, side("Base", data.base), side("Other", data.other)),
    h("section", {}, h("h2", { text: "Parameters" }), h("p", { class: "muted", text: sum(data.parameters_summary) }),
      diffTable(data.parameters, "Parameter")),
    h("section", {}, h("h2", { text: "Scraps" }), h("p", { class: "muted", text: sum(data.scraps_summary) }),
      diffTable(data.scraps, "Scrap")),
    h("section", {}, h("h2", { text: "Output notebooks (nbdime)" }),
      h("p", { class: "muted", text: data.same_version ? "Same notebook version." : "Different notebook versions." }),
      diffText(data.notebook_diff)));
}

async function versionsPage() {
  const name = body.dataset.report;
  const data = await api(`/reports/${enc(name)}/versions/compare`, { base: body.dataset.base, other: body.dataset.other });
  app.replaceChildren(
    header(`Notebook versions of ${name}`, [[name, reportUrl(name)], ["versions"]]),
    h("p", {}, "Base ", h("code", { text: short(data.base) }), " → other ", h("code", { text: short(data.other) })),
    diffText(data.notebook_diff));
}

const PAGES = { catalog: catalogPage, report: reportPage, run: runPage, compare: comparePage, versions: versionsPage };
(PAGES[body.dataset.page] || (() => fail(new Error("unknown page"))))().catch(fail);
