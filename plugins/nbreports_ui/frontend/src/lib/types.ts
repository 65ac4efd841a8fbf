// Shapes of the JSON API answers (plugins/nbreports_ui/api.py) that the pages read.
// Everything in them may come from a notebook or a report.yaml: it is data, shown as text.

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface RunRef {
  run_id: string;
  status: string;
  started_at: string | null;
}

export interface CatalogEntry {
  name: string;
  title: string;
  owner: string;
  team: string;
  schedule: string | null;
  triggered_by_reports: string[];
  tags: string[];
  last_run: RunRef | null;
  last_published: RunRef | null;
  success_rate: number | null;
  runs_finished: number;
  /** what the user may do: view, execute, change */
  allowed?: Action[];
}

export type Action = "view" | "execute" | "change";

export interface Grantees {
  teams: string[];
  roles: string[];
  users: string[];
}

export interface AccessGrants {
  view: Grantees;
  execute: Grantees;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  outcome: "done" | "denied" | "invalid";
  report: string | null;
  details: Record<string, Json>;
  client?: string | null;
  user_agent?: string | null;
}

export interface AuditPage {
  items: AuditEntry[];
  total: number;
  limit: number;
  next_cursor: number | null;
}

export interface ReportList {
  reports: CatalogEntry[];
  total: number;
}

export interface ParameterSchema {
  type?: string;
  format?: string;
  default?: Json;
  enum?: Json[];
  minimum?: number;
  maximum?: number;
  title?: string;
  description?: string;
}

export interface ReportDetail extends CatalogEntry {
  description: string | null;
  executor: string;
  parameter_schema: { properties?: Record<string, ParameterSchema> };
  /** only for those who may change the report */
  access?: AccessGrants;
  restricted?: boolean;
}

export interface RunSummary {
  run_id: string;
  report: string;
  status: string;
  started_at: string | null;
  ended_at: string | null;
  duration_s: number | null;
  parameters: Record<string, Json> | null;
  notebook_version: string | null;
  executor: string | null;
  profile: string | null;
  triggered_by: string | null;
  cache_hit_of: string | null;
  html_uri: string | null;
  dag_id: string | null;
  dag_run_id: string | null;
}

export interface HistoryPage {
  report: string;
  items: RunSummary[];
  total: number;
  total_exact: boolean;
  limit: number;
  next_cursor: string | null;
}

export type DeliveryStatus = "pending" | "sent" | "failed" | "gave_up";

/** One delivery of a run's notification (plugins/nbreports_ui/notify_api.py). */
export interface Delivery {
  id: number;
  event: string;
  channel: string;
  conn_id: string;
  /** the addresses for those who may change the report; their number for everyone else */
  recipients: string[] | number;
  status: DeliveryStatus;
  attempts: number;
  /** redacted; for those who may not change the report, with the addresses replaced */
  last_error: string | null;
  created_at: string | null;
  sent_at: string | null;
  next_attempt_at: string | null;
}

/** The user's own subscription to a report's notifications. */
export interface Subscription {
  subscribed: boolean;
  email: string | null;
}

export interface RunDetail extends RunSummary {
  kernel: string | null;
  error: string | null;
  failed_cell: number | null;
  scraps: Record<string, Json>;
  execution_s: number | null;
  peak_memory_bytes: number | null;
  has_html: boolean;
  has_output: boolean;
  airflow: Partial<Record<"dag_run" | "log_prepare" | "log_execute" | "log_publish", string>>;
  /** on the one-run answers (not in comparisons) */
  notifications?: Delivery[];
}

export interface Version {
  sha256: string;
  source?: string;
  created_at: string | null;
  runs: number;
  last_run_at: string | null;
}

export interface VersionList {
  report: string;
  versions: Version[];
}

export interface DiffRow {
  key: string;
  change: "changed" | "added" | "removed" | "same";
  base?: Json;
  other?: Json;
}

export interface DiffSummary {
  changed: number;
  added: number;
  removed: number;
  same: number;
}

export interface NotebookDiff {
  identical: boolean | null;
  text: string;
  error?: string | null;
}

export interface RunComparison {
  report: string;
  base: RunSummary;
  other: RunSummary;
  parameters: DiffRow[];
  parameters_summary: DiffSummary;
  scraps: DiffRow[];
  scraps_summary: DiffSummary;
  same_version: boolean;
  notebook_diff: NotebookDiff;
}

export interface VersionComparison {
  report: string;
  base: string;
  other: string;
  notebook_diff: NotebookDiff;
}

/** One stored notebook version and its cells as text (GET /api/reports/{r}/versions/{sha}). */
export interface VersionCell {
  /** the cell's position in the notebook, 0-based (what a search hit's `cell` names) */
  index: number;
  id: string | null;
  cell_type: string;
  source: string;
}

export interface VersionDetail {
  report: string;
  version: {
    sha256: string;
    size?: number;
    kernel?: string | null;
    source?: string | null;
    author?: string | null;
    origin?: string | null;
    created_at: string | null;
  };
  cells: VersionCell[];
}

export type HitKind = "code" | "markdown" | "raw" | "output" | "scrap" | "parameter" | "error" | "report";

/** A piece of a hit's snippet: `hit` pieces are the matched words. */
export interface SnippetPart {
  text: string;
  hit: boolean;
}

/** One search hit (plugins/nbreports_ui/search_api.py over nbreports.search). */
export interface SearchHit {
  report: string;
  title: string;
  kind: HitKind;
  at: string | null;
  version: string | null;
  /** how many versions hold that cell */
  versions: number | null;
  cell: number | null;
  cell_id: string | null;
  run_id: string | null;
  status: string | null;
  /** a scrap's or parameter's name */
  name: string | null;
  snippet: SnippetPart[];
  /** the page it came from: the run, the version at the cell, or the report */
  url: string;
}

export interface SearchPage {
  total: number;
  /** false when more documents match than are ranked (1,000): then total is that many */
  total_exact: boolean;
  page: number;
  per_page: number;
  /** the query as the server read it */
  query: string;
  hits: SearchHit[];
}
