// One report: facts, parameters, duration chart, paged run history (polled while runs are
// running, updated row by row), notebook versions, the audit log, the Subscribe toggle (subscribe.ts)
// for everyone who sees the page; for those who may change the report, the write controls (manage.ts).
import { ApiError } from "../lib/api";
import { h, setText } from "../lib/dom";
import { json, pageRange, paramLines, percent, seconds, short, when } from "../lib/format";
import { KeyedTable } from "../lib/keyed";
import { airflow, airflowLink, compareUrl, runUrl, versionsCompareUrl, versionUrl } from "../lib/links";
import { poll, type Poller } from "../lib/poll";
import { badge, facts, fail, header, section, table, type Column } from "../lib/ui";
import { durationChart } from "./chart";
import { accessSection, AuditLog, mayChange, restoreButton, uploadSection } from "./manage";
import { SubscribeToggle } from "./subscribe";
import { need, type Context } from "../lib/context";
import type { HistoryPage, ParameterSchema, ReportDetail, RunSummary, Version, VersionList } from "../lib/types";

export const PAGE_SIZE = 25;

export function paramTable(schema: ReportDetail["parameter_schema"]): HTMLElement {
  const rows = Object.entries(schema.properties ?? {}).map(([name, s]) => ({ name, ...s }));
  const columns: Column<ParameterSchema & { name: string }>[] = [
    { label: "Parameter", cell: (p) => h("code", { text: p.name }) },
    { label: "Type", cell: (p) => p.format ? `${p.type ?? "any"} (${p.format})` : p.type ?? "any" },
    { label: "Default", cell: (p) => h("code", { text: json(p.default) }) },
    { label: "Allowed", cell: (p) => [p.enum ? `one of ${p.enum.map(json).join(", ")}` : "",
      p.minimum != null ? ` ≥ ${p.minimum}` : "", p.maximum != null ? ` ≤ ${p.maximum}` : ""] },
    { label: "Description", cell: (p) => [p.title && p.title !== p.name ? h("strong", { text: `${p.title}. ` }) : "",
      p.description ?? ""] },
  ];
  return table(columns, rows, "This report has no parameters.");
}

export interface Selection {
  has(id: string): boolean;
  toggle(id: string, on: boolean): void;
}

export function historyColumns(ctx: Context, name: string, selection: Selection): Column<RunSummary>[] {
  return [
    { label: "", className: "pick-cell", cell: (r) => {
      const box = h("input", { type: "checkbox", class: "pick", value: r.run_id, "aria-label": `select ${r.run_id}`,
        onchange: (ev) => { selection.toggle(r.run_id, (ev.target as HTMLInputElement).checked); } });
      box.checked = selection.has(r.run_id); // a property: a poll compares attributes only
      return box;
    } },
    { label: "Run", cell: (r) => h("a", { href: runUrl(ctx, name, r.run_id), class: "run-link", text: r.run_id }) },
    { label: "Status", cell: (r) => [badge(r.status), r.cache_hit_of ? h("span", { class: "badge cached", text: "cache hit" }) : ""] },
    { label: "Started", cell: (r) => when(r.started_at) },
    { label: "Duration", cell: (r) => seconds(r.duration_s) },
    { label: "Parameters", cell: (r) => h("code", { class: "params", text: paramLines(r.parameters) }) },
    { label: "Notebook", cell: (r) => h("code", { title: r.notebook_version ?? "", text: short(r.notebook_version) }) },
    { label: "Executor", cell: (r) => [r.executor ?? "—", r.profile ? ` / ${r.profile}` : ""] },
    { label: "Triggered by", cell: (r) => r.triggered_by ?? "—" },
    { label: "Links", cell: (r) => [r.html_uri ? h("a", { href: runUrl(ctx, name, r.run_id), text: "report" }) : "",
      r.dag_id && r.dag_run_id ? [" · ", airflowLink(ctx, airflow.dagRun(r.dag_id, r.dag_run_id), "Airflow")] : ""] },
  ];
}

const isRunning = (r: RunSummary): boolean => r.status === "running" || r.status === "queued";

/** The run history: filters, a keyed table, a pager, the compare button; polls while runs run. */
export class History {
  readonly element: HTMLElement;
  readonly chart = h("div", { class: "chart-box" });
  readonly filters = { status: "", notebook_version: "", triggered_by: "" };
  private cursors: (string | null)[] = [null];
  private selected: string[] = [];
  private readonly started = new Map<string, string>();
  private readonly table: KeyedTable<RunSummary>;
  private readonly range = h("span", { class: "muted", id: "history-range" });
  private readonly older: HTMLButtonElement;
  private readonly newer: HTMLButtonElement;
  readonly compare: HTMLButtonElement;
  private page: HistoryPage | null = null;
  private chartKey = "";
  private poller: Poller | null = null;

  constructor(private readonly ctx: Context, private readonly name: string, private readonly interval?: number) {
    const selection: Selection = {
      has: (id) => this.selected.includes(id),
      toggle: (id, on) => { this.toggle(id, on); },
    };
    this.table = new KeyedTable(historyColumns(ctx, name, selection), (r) => r.run_id, "No runs match.");
    this.compare = h("button", { type: "button", id: "compare", disabled: true, text: "Compare selected runs",
      onclick: () => { location.href = this.compareHref(); } });
    this.older = h("button", { type: "button", text: "Older →", disabled: true,
      onclick: () => { if (this.page?.next_cursor) { this.cursors.push(this.page.next_cursor); this.reload(); } } });
    this.newer = h("button", { type: "button", text: "← Newer", disabled: true,
      onclick: () => { if (this.cursors.length > 1) { this.cursors.pop(); this.reload(); } } });
    this.element = h("section", { id: "history" }, this.table.element,
      h("div", { class: "pager" }, this.newer, this.range, this.older, this.compare));
  }

  /** Older run as the base, newer as the other. */
  compareHref(): string {
    const [a = "", b = ""] = this.selected.slice().sort((x, y) =>
      (this.started.get(x) ?? "").localeCompare(this.started.get(y) ?? ""));
    return compareUrl(this.ctx, this.name, a, b);
  }

  get selection(): readonly string[] { return this.selected; }

  toggle(id: string, on: boolean): void {
    this.selected = on ? [...this.selected.filter((x) => x !== id), id].slice(-2) : this.selected.filter((x) => x !== id);
    this.element.querySelectorAll<HTMLInputElement>("input.pick").forEach((box) => {
      box.checked = this.selected.includes(box.value);
    });
    this.compare.disabled = this.selected.length !== 2;
  }

  setFilter(key: keyof History["filters"], value: string): void {
    this.filters[key] = value;
    this.cursors = [null];
    this.reload();
  }

  private reload(): void {
    this.load().catch((err: unknown) => { fail(this.ctx, err); });
  }

  private async fetch(): Promise<HistoryPage> {
    const cursor = this.cursors[this.cursors.length - 1] ?? null;
    return this.ctx.api.get<HistoryPage>(`/reports/${encodeURIComponent(this.name)}/runs`,
      { ...this.filters, cursor, limit: PAGE_SIZE });
  }

  /** Fetch the current page and show it; starts polling when one of its runs is still running. */
  async load(): Promise<void> {
    this.show(await this.fetch());
    this.watch();
  }

  /** Show a page of history, changing only what changed. */
  show(page: HistoryPage): void {
    this.page = page;
    for (const r of page.items) if (r.started_at) this.started.set(r.run_id, r.started_at);
    this.table.update(page.items);
    if (this.cursors.length === 1) {
      const key = JSON.stringify(page.items.map((r) => [r.run_id, r.status, r.duration_s]));
      if (key !== this.chartKey) { this.chartKey = key; this.chart.replaceChildren(durationChart(page.items)); }
    }
    this.older.disabled = !page.next_cursor;
    this.newer.disabled = this.cursors.length === 1;
    setText(this.range, pageRange((this.cursors.length - 1) * page.limit, page.items.length, page.total, page.total_exact));
  }

  private watch(): void {
    if (this.poller?.running || !this.page?.items.some(isRunning)) return;
    this.poller = poll(async () => {
      const page = await this.fetch();
      this.show(page);
      return page.items.some(isRunning);
    }, { interval: this.interval, onError: (err) => { fail(this.ctx, err); } });
  }

  stop(): void { this.poller?.stop(); }
}

export function versionsSection(ctx: Context, name: string, data: VersionList, onRestore?: () => void): HTMLElement {
  const list = data.versions;
  return section("Notebook versions", table([
    { label: "Version", cell: (v) => h("a", { class: "version-link", href: versionUrl(ctx, name, v.sha256) },
      h("code", { title: v.sha256, text: short(v.sha256) })) },
    { label: "Source", cell: (v) => v.source ?? "—" },
    { label: "First seen", cell: (v) => when(v.created_at) },
    { label: "Runs", cell: (v) => v.runs },
    { label: "Last run", cell: (v) => when(v.last_run_at) },
    { label: "Compare", cell: (v, i) => {
      const prev = list[i + 1];
      return prev ? h("a", { href: versionsCompareUrl(ctx, name, prev.sha256, v.sha256), text: `diff with ${short(prev.sha256)}` })
        : "first version";
    } },
    ...(onRestore ? [{ label: "", cell: (v: Version) => restoreButton(ctx, name, v.sha256, onRestore) }] : []),
  ], list, "No version has run yet."));
}

export async function reportPage(ctx: Context): Promise<History | null> {
  const name = need(ctx, "report");
  let report: ReportDetail;
  try {
    report = await ctx.api.get<ReportDetail>(`/reports/${encodeURIComponent(name)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      ctx.app.replaceChildren(header(ctx, name, [[name]]),
        h("p", { class: "muted", text: `${name} is not an nbreports report (or has not been loaded yet).` }));
      return null;
    }
    throw err;
  }
  const history = new History(ctx, name);
  const statusSel = h("select", { "aria-label": "status",
    onchange: (ev) => { history.setFilter("status", (ev.target as HTMLSelectElement).value); } },
  ["", "success", "failed", "running"].map((st) => h("option", { value: st, text: st || "any status" })));
  const versionInput = h("input", { type: "search", placeholder: "notebook version (sha prefix)", "aria-label": "version",
    onchange: (ev) => { history.setFilter("notebook_version", (ev.target as HTMLInputElement).value.trim()); } });
  const versionsPath = `/reports/${encodeURIComponent(name)}/versions`;
  const versions = await ctx.api.get<VersionList>(versionsPath);
  const audit = new AuditLog(ctx, name);
  const subscription = new SubscribeToggle(ctx, name);
  const changes = mayChange(report);
  const versionsBox = h("div", { id: "versions" });
  const afterWrite = (): void => {
    Promise.all([ctx.api.get<VersionList>(versionsPath).then(drawVersions), audit.reload()])
      .catch((err: unknown) => { fail(ctx, err); });
  };
  const drawVersions = (list: VersionList): void => {
    versionsBox.replaceChildren(versionsSection(ctx, name, list, changes ? afterWrite : undefined));
  };
  drawVersions(versions);

  ctx.app.replaceChildren(
    header(ctx, report.title, [[report.name]],
      report.allowed?.includes("execute") ?? true
        ? airflowLink(ctx, airflow.dag(name), "Run with parameters", { class: "button primary",
          id: "run-with-parameters", title: "Opens the DAG in Airflow: press Trigger to fill in the parameters" })
        : "",
      report.last_published ? h("a", { class: "button", href: runUrl(ctx, name, report.last_published.run_id),
        text: "Latest report" }) : ""),
    h("p", { class: "description", text: report.description ?? "" }),
    subscription.element,
    facts([
      ["Owner / team", `${report.owner} / ${report.team}`],
      ["Schedule", report.schedule ?? "manual"],
      ["Executor", report.executor],
      ["Success rate", percent(report.success_rate)],
      ["Tags", report.tags.map((t) => h("span", { class: "tag", text: t }))],
    ]),
    section("Parameters", paramTable(report.parameter_schema)),
    section("Duration and status", history.chart),
    section("Run history", h("div", { class: "filters" }, statusSel, versionInput), history.element),
    versionsBox,
    changes ? uploadSection(ctx, name, afterWrite) : "",
    changes && report.access ? accessSection(ctx, name, report.access, report.restricted ?? false, afterWrite) : "",
    audit.element);
  await Promise.all([history.load(), audit.load(), subscription.load()]);
  return history;
}

