// What a report's owners do from its page — upload a notebook as a new version, restore a version,
// edit who else may view or run it — and the report's audit log, which every viewer sees. The write
// controls are drawn only when the API says the user may change the report; the server checks again.
import { h, setText } from "../lib/dom";
import { short, when } from "../lib/format";
import { section, table } from "../lib/ui";
import type { Context } from "../lib/context";
import type { AccessGrants, Action, AuditEntry, AuditPage, Grantees } from "../lib/types";

export const AUDIT_PAGE = 20;
const ACTIONS = ["view", "execute"] as const;
const KINDS = ["teams", "roles", "users"] as const;

export const mayChange = (r: { allowed?: Action[] }): boolean => r.allowed?.includes("change") ?? false;

const reportPath = (name: string): string => `/reports/${encodeURIComponent(name)}`;
const message = (err: unknown): string => err instanceof Error ? err.message : String(err);

function statusLine(id: string): HTMLElement {
  return h("p", { class: "muted write-status", id, role: "status" });
}

function report(out: HTMLElement, text: string, failed: boolean): void {
  setText(out, text);
  out.classList.toggle("error", failed);
}

export interface NotebookFile { name: string; text(): Promise<string> }

/** Upload a notebook file as the report's new version; the server validates it. */
export async function uploadNotebook(ctx: Context, name: string, file: NotebookFile): Promise<string> {
  const res = await ctx.api.send<{ sha256: string }>("POST", `${reportPath(name)}/notebook`,
    { filename: file.name, content: await file.text() });
  return res.sha256;
}

export function uploadSection(ctx: Context, name: string, onDone: () => void): HTMLElement {
  const input = h("input", { type: "file", id: "upload-file", accept: ".ipynb,application/x-ipynb+json",
    "aria-label": "notebook file" });
  const out = statusLine("upload-status");
  const button = h("button", { type: "button", id: "upload", text: "Upload as new version", onclick: () => {
    const file = input.files?.[0];
    if (!file) { report(out, "Choose a .ipynb file first.", true); return; }
    button.disabled = true;
    uploadNotebook(ctx, name, file)
      .then((sha) => { report(out, `Uploaded as version ${short(sha)}.`, false); onDone(); },
        (err: unknown) => { report(out, `Not uploaded: ${message(err)}`, true); })
      .finally(() => { button.disabled = false; });
  } });
  return section("Upload a notebook", h("div", { class: "filters" }, input, button), out);
}

/** A button that makes a recorded version the notebook again. */
export function restoreButton(ctx: Context, name: string, sha: string, onDone: () => void): HTMLElement {
  const button = h("button", { type: "button", class: "restore", "data-sha": sha, text: "Restore", onclick: () => {
    button.disabled = true;
    ctx.api.send("POST", `${reportPath(name)}/versions/${sha}/restore`)
      .then(() => { onDone(); }, (err: unknown) => { button.title = message(err); setText(button, "Restore failed"); })
      .finally(() => { button.disabled = false; });
  } });
  return button;
}

export const names = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/** The access editor: who else may view, who else may run; the server refuses unknown names. */
export function accessSection(ctx: Context, name: string, grants: AccessGrants, restricted: boolean,
  onDone: () => void): HTMLElement {
  const inputs = new Map<string, HTMLInputElement>();
  const rows = ACTIONS.map((action) => h("fieldset", { class: "filters" }, h("legend", { text: `Also may ${action}` }),
    KINDS.map((kind) => {
      const input = h("input", { type: "text", id: `access-${action}-${kind}`, "aria-label": `${action} ${kind}`,
        placeholder: kind, value: grants[action][kind].join(", ") });
      inputs.set(`${action}.${kind}`, input);
      return h("label", {}, `${kind} `, input);
    })));
  const out = statusLine("access-status");
  const read = (action: string): Grantees => ({
    teams: names(inputs.get(`${action}.teams`)?.value ?? ""),
    roles: names(inputs.get(`${action}.roles`)?.value ?? ""),
    users: names(inputs.get(`${action}.users`)?.value ?? ""),
  });
  const save = h("button", { type: "button", id: "save-access", text: "Save access", onclick: () => {
    save.disabled = true;
    ctx.api.send("PUT", `${reportPath(name)}/access`, { view: read("view"), execute: read("execute") })
      .then(() => { report(out, "Saved to report.yaml.", false); onDone(); },
        (err: unknown) => { report(out, `Not saved: ${message(err)}`, true); })
      .finally(() => { save.disabled = false; });
  } });
  return section("Access",
    h("p", { class: "muted", text: restricted
      ? "This team's data is restricted: its reports cannot be shared outside the team."
      : "The owning team may do everything; list the other teams, roles or people (comma-separated)." }),
    ...rows, h("div", { class: "filters" }, save), out);
}

function details(entry: AuditEntry): string {
  const text = JSON.stringify(entry.details);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** The report's audit log, newest first, a page at a time. */
export class AuditLog {
  readonly element: HTMLElement;
  private readonly body = h("div", { id: "audit-entries" });
  private readonly range = h("span", { class: "muted", id: "audit-range" });
  private readonly older: HTMLButtonElement;
  private readonly newer: HTMLButtonElement;
  private cursors: (number | null)[] = [null];
  private next: number | null = null;

  constructor(private readonly ctx: Context, private readonly name: string) {
    this.older = h("button", { type: "button", text: "Older →", disabled: true, onclick: () => {
      if (this.next !== null) { this.cursors.push(this.next); void this.load(); }
    } });
    this.newer = h("button", { type: "button", text: "← Newer", disabled: true, onclick: () => {
      if (this.cursors.length > 1) { this.cursors.pop(); void this.load(); }
    } });
    this.element = section("Audit log", this.body, h("div", { class: "pager" }, this.newer, this.range, this.older));
    this.element.id = "audit";
  }

  /** Back to the newest page (after a write). */
  async reload(): Promise<void> {
    this.cursors = [null];
    await this.load();
  }

  async load(): Promise<void> {
    const cursor = this.cursors[this.cursors.length - 1] ?? null;
    const page = await this.ctx.api.get<AuditPage>(`${reportPath(this.name)}/audit`, { limit: AUDIT_PAGE, cursor });
    this.next = page.next_cursor;
    const withClient = page.items.some((e) => e.client !== undefined);
    this.body.replaceChildren(table([
      { label: "When", cell: (e) => when(e.at) },
      { label: "Who", cell: (e) => e.actor },
      { label: "Action", cell: (e) => e.action },
      { label: "Outcome", cell: (e) => h("span", { class: `badge outcome-${e.outcome}`, text: e.outcome }) },
      { label: "Details", cell: (e) => h("code", { text: details(e) }) },
      ...(withClient ? [{ label: "From", cell: (e: AuditEntry) => [e.client ?? "—", " ",
        h("span", { class: "muted", text: e.user_agent ?? "" })] }] : []),
    ], page.items, "Nothing was changed yet."));
    const shown = (this.cursors.length - 1) * AUDIT_PAGE;
    setText(this.range, page.items.length ? `${shown + 1}–${shown + page.items.length} of ${page.total}` : "");
    this.older.disabled = page.next_cursor === null;
    this.newer.disabled = this.cursors.length === 1;
  }
}
