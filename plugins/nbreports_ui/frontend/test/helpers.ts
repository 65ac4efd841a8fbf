// Sample API answers and a fake API for the page tests.
import { ApiError, type Api, type Method, type Params } from "../src/lib/api";
import type { Context } from "../src/lib/context";
import type { CatalogEntry, HistoryPage, ReportDetail, RunDetail, RunSummary } from "../src/lib/types";

export type Route = (params: Params | undefined) => unknown;

export type Sent = [method: Method, path: string, body: unknown];

/** An Api answering from `routes` (path → answer or function; writes as "POST path"); records every call. */
export function fakeApi(routes: Record<string, unknown>): Api & { calls: [string, Params | undefined][]; sent: Sent[] } {
  const calls: [string, Params | undefined][] = [];
  const sent: Sent[] = [];
  const reply = <T>(key: string, arg: unknown): Promise<T> => {
    if (!(key in routes)) return Promise.reject(new ApiError(`no ${key}`, 404));
    const answer = routes[key];
    try {
      const value: unknown = typeof answer === "function" ? (answer as (a: unknown) => unknown)(arg) : answer;
      return value instanceof Error ? Promise.reject(value) : Promise.resolve(structuredClone(value) as T);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return {
    calls,
    sent,
    send<T>(method: Method, path: string, body?: unknown): Promise<T> {
      sent.push([method, path, body]);
      return reply<T>(`${method} ${path}`, body);
    },
    get<T>(path: string, params?: Params): Promise<T> {
      calls.push([path, params]);
      return reply<T>(path, params);
    },
  };
}

/** A page context drawing into a fresh <main id="app">; `attach` puts it in the document (for focus). */
export function context(api: Api, page = "catalog", data: Record<string, string> = {}, attach = true): Context {
  document.body.replaceChildren();
  const app = document.createElement("main");
  app.id = "app";
  if (attach) document.body.append(app);
  return { page, root: "/nbreports", airflow: "", sandbox: "allow-scripts allow-popups", data, api, app };
}

export function entry(over: Partial<CatalogEntry> = {}): CatalogEntry {
  return {
    name: "sales_summary", title: "Sales summary", owner: "alice", team: "analytics", schedule: "0 6 * * 1-5",
    triggered_by_reports: [], tags: ["sales", "daily"],
    last_run: { run_id: "20240601T060000-abc", status: "success", started_at: "2024-06-01T06:00:00+00:00" },
    last_published: { run_id: "20240601T060000-abc", status: "success", started_at: "2024-06-01T06:00:00+00:00" },
    success_rate: 0.875, runs_finished: 8, ...over,
  };
}

export function report(over: Partial<ReportDetail> = {}): ReportDetail {
  return {
    ...entry(), description: "Sales per region.", executor: "local",
    parameter_schema: { properties: {
      region: { type: "string", enum: ["EU", "US"], default: "EU", title: "Region" },
      top_n: { type: "integer", default: 3, minimum: 1, description: "How many products" },
    } }, ...over,
  };
}

export function run(id: string, over: Partial<RunSummary> = {}): RunSummary {
  return {
    run_id: id, report: "sales_summary", status: "success", started_at: "2024-06-01T06:00:00+00:00",
    ended_at: "2024-06-01T06:00:04+00:00", duration_s: 4.2, parameters: { region: "EU", top_n: 3 },
    notebook_version: "a".repeat(64), executor: "local", profile: null, triggered_by: "schedule",
    cache_hit_of: null, html_uri: "runs/x/report.html", dag_id: "sales_summary", dag_run_id: `dr-${id}`, ...over,
  };
}

export function page(items: RunSummary[], over: Partial<HistoryPage> = {}): HistoryPage {
  return { report: "sales_summary", items, total: items.length, total_exact: true, limit: 25, next_cursor: null, ...over };
}

export function detail(id: string, over: Partial<RunDetail> = {}): RunDetail {
  return {
    ...run(id), kernel: "python3", error: null, failed_cell: null, scraps: { total: 12, regions: ["EU"] },
    execution_s: 3.1, peak_memory_bytes: 52_428_800, has_html: true, has_output: true,
    airflow: { dag_run: `/dags/sales_summary/runs/dr-${id}`, log_execute: `/dags/sales_summary/runs/dr-${id}/tasks/execute` },
    ...over,
  };
}

/** Let pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
