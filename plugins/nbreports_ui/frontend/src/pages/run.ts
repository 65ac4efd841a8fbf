// One run: status, facts, scraps, its notifications (each delivery: how it went, retries), the
// published HTML in its sandboxed frame. While the run is running the page polls and updates the
// fields that changed; the frame appears once, when the HTML exists, and is never reloaded by a poll.
import { ApiError } from "../lib/api";
import { h, patchChildren, setText, type Child } from "../lib/dom";
import { bytes, json, seconds, short, when } from "../lib/format";
import { KeyedTable } from "../lib/keyed";
import { airflowLink, htmlUrl, outputUrl, reportUrl } from "../lib/links";
import { poll, type Poller } from "../lib/poll";
import { badge, fail, header, section, setBadge, type Column } from "../lib/ui";
import { need, type Context } from "../lib/context";
import type { Delivery, Json, RunDetail } from "../lib/types";

const LOGS = ["prepare", "execute", "publish"] as const;

/** The fields of the facts list: [id, term, value of a run]. */
const FIELDS: readonly (readonly [string, string, (run: RunDetail) => string])[] = [
  ["run-parameters", "Parameters", (r) => JSON.stringify(r.parameters, null, 1)],
  ["run-version", "Notebook version", (r) => short(r.notebook_version)],
  ["run-executor", "Executor / kernel", (r) => `${r.executor ?? "—"} / ${r.kernel ?? "—"}${r.profile ? ` / ${r.profile}` : ""}`],
  ["run-started", "Started", (r) => when(r.started_at)],
  ["run-ended", "Ended", (r) => when(r.ended_at)],
  ["run-duration", "Duration (execution)", (r) => `${seconds(r.duration_s)} (${seconds(r.execution_s)})`],
  ["run-memory", "Peak memory", (r) => bytes(r.peak_memory_bytes)],
  ["run-triggered-by", "Triggered by", (r) => r.triggered_by ?? "—"],
  ["run-cache", "Cache", (r) => r.cache_hit_of ? `reused run ${r.cache_hit_of}` : "executed"],
];
const CODE_FIELDS = new Set(["run-parameters", "run-version"]);

/** Who a delivery went to: the addresses (for those who may change the report), else how many. */
export function recipientsText(d: Delivery): string {
  if (typeof d.recipients === "number") return d.recipients ? `${d.recipients} recipient${d.recipients === 1 ? "" : "s"}` : "—";
  return d.recipients.length ? d.recipients.join(", ") : "—";
}

export const deliveryColumns: readonly Column<Delivery>[] = [
  { label: "Event", cell: (d) => d.event },
  { label: "Channel", cell: (d) => [d.channel, " ", h("code", { class: "muted", text: d.conn_id })] },
  { label: "Recipients", cell: (d) => recipientsText(d) },
  { label: "Status", cell: (d) => [h("span", { class: `badge delivery-${d.status}`, text: d.status.replace("_", " ") }),
    d.next_attempt_at ? h("span", { class: "muted", text: ` next try ${when(d.next_attempt_at)}` }) : ""] },
  { label: "Attempts", cell: (d) => d.attempts },
  { label: "Last error", cell: (d) => d.last_error ? h("code", { class: "params", text: d.last_error }) : "—" },
  { label: "Sent at", cell: (d) => when(d.sent_at) },
];

export const isActive = (run: RunDetail): boolean => run.status === "running" || run.status === "queued";

export class RunView {
  readonly element: HTMLElement;
  private readonly title = h("h1");
  private readonly status = badge(null);
  private readonly links = h("span", { class: "actions", id: "run-links" });
  private readonly error = h("div", { id: "run-error" });
  private readonly fields = new Map<string, HTMLElement>();
  private readonly logs = h("dd", { id: "run-logs" });
  private readonly scraps = new KeyedTable<{ key: string; value: Json }>([
    { label: "Name", cell: (s) => h("code", { text: s.key }) },
    { label: "Value", cell: (s) => h("code", { class: "params", text: json(s.value) }) },
  ], (s) => s.key, "No scraps.", { id: "scraps" });
  private readonly notifications = new KeyedTable<Delivery>(deliveryColumns, (d) => String(d.id),
    "No notifications.", { id: "notifications" });
  private readonly report = h("div", { id: "report-box" });
  private frame: HTMLIFrameElement | null = null;

  constructor(private readonly ctx: Context, private readonly name: string, run: RunDetail) {
    const head = header(ctx, "", [[name, reportUrl(ctx, name)], [run.run_id]], this.status, this.links);
    head.querySelector("h1")?.replaceWith(this.title);
    const dl = h("dl", { class: "facts" });
    for (const [id, term] of FIELDS) {
      const value = CODE_FIELDS.has(id) ? h("code", { id }) : h("span", { id });
      this.fields.set(id, value);
      dl.append(h("dt", { text: term }), h("dd", {}, value));
    }
    dl.append(h("dt", { text: "Logs" }), this.logs);
    this.element = h("div", { class: "run-page" }, head, this.error,
      h("div", { class: "two-col" }, dl, section("Scraps", this.scraps.element)),
      section("Notifications", this.notifications.element),
      section("Report", this.report));
    this.update(run);
  }

  /** Bring the page to `run`, touching only what changed. */
  update(run: RunDetail): void {
    setText(this.title, `${this.name} · ${run.run_id}`);
    setBadge(this.status, run.status);
    patchChildren(this.links, h("span", {}, this.linkButtons(run)));
    patchChildren(this.error, h("div", {}, run.error
      ? h("div", { class: "error" }, h("strong", { text: `Failed${run.failed_cell != null ? ` in cell ${run.failed_cell}` : ""}: ` }), run.error)
      : ""));
    for (const [id, , value] of FIELDS) {
      const el = this.fields.get(id);
      if (el) setText(el, value(run));
    }
    const version = this.fields.get("run-version");
    if (version && run.notebook_version && version.title !== run.notebook_version) version.title = run.notebook_version;
    const logs = LOGS.flatMap((t) => {
      const path = run.airflow[`log_${t}`];
      return path ? [airflowLink(this.ctx, path, `${t} log`)] : [];
    });
    patchChildren(this.logs, h("dd", {}, logs.length ? logs.flatMap((a, i): Child[] => (i ? [" · ", a] : [a])) : "—"));
    this.scraps.update(Object.entries(run.scraps).map(([key, value]) => ({ key, value })));
    this.notifications.update(run.notifications ?? []);
    this.showReport(run);
  }

  private linkButtons(run: RunDetail): Child[] {
    const out: Child[] = [];
    if (run.has_output) out.push(h("a", { class: "button", id: "download", href: outputUrl(this.ctx, this.name, run.run_id), text: "Download notebook" }));
    if (run.airflow.dag_run) out.push(airflowLink(this.ctx, run.airflow.dag_run, "Airflow run", { class: "button" }));
    return out;
  }

  private showReport(run: RunDetail): void {
    if (run.has_html) {
      const src = htmlUrl(this.ctx, this.name, run.run_id);
      if (this.frame?.getAttribute("src") === src) return;
      this.frame = h("iframe", { id: "report-frame", title: "Published report", sandbox: this.ctx.sandbox,
        referrerpolicy: "no-referrer", src });
      this.report.replaceChildren(this.frame);
      return;
    }
    this.frame = null;
    const text = isActive(run) ? "The run is still going; this page refreshes." : "No published HTML.";
    const note = this.report.firstElementChild;
    if (note instanceof HTMLParagraphElement) setText(note, text);
    else this.report.replaceChildren(h("p", { class: "muted", text }));
  }
}

export interface RunPageHandle {
  view: RunView | null;
  poller: Poller | null;
}

export async function runPage(ctx: Context, interval?: number): Promise<RunPageHandle> {
  const name = need(ctx, "report");
  const runId = ctx.data.run;
  const dagRun = ctx.data.dagRun;
  const path = runId ? `/reports/${encodeURIComponent(name)}/runs/${encodeURIComponent(runId)}`
    : `/reports/${encodeURIComponent(name)}/dag-runs/${encodeURIComponent(dagRun ?? "")}`;
  const handle: RunPageHandle = { view: null, poller: null };
  const fetchRun = async (): Promise<RunDetail | null> => {
    try {
      return await ctx.api.get<RunDetail>(path);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && !runId && dagRun) return null; // not recorded yet
      throw err;
    }
  };
  // one step: draw or update; true while there is more to wait for
  const step = (run: RunDetail | null): boolean => {
    if (!run) {
      if (!ctx.app.querySelector("#waiting")) {
        ctx.app.replaceChildren(header(ctx, name, [[name, reportUrl(ctx, name)], [dagRun ?? ""]]),
          h("p", { class: "muted", id: "waiting", text: "This DAG run has not recorded a report run yet; this page refreshes." }));
      }
      return true;
    }
    if (handle.view) handle.view.update(run);
    else {
      handle.view = new RunView(ctx, name, run);
      ctx.app.replaceChildren(handle.view.element);
    }
    return isActive(run);
  };
  if (step(await fetchRun())) {
    handle.poller = poll(async () => step(await fetchRun()), { interval, onError: (err) => { fail(ctx, err); } });
  }
  return handle;
}
