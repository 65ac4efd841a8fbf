// What a page knows before it asks the API: read once from <body data-*> (templates/page.html).
import { createApi, type Api } from "./api";

export interface Context {
  /** which page: catalog, report, run, compare, versions */
  page: string;
  /** this app's URL prefix, e.g. "/nbreports" */
  root: string;
  /** Airflow's UI base, e.g. "" */
  airflow: string;
  /** the sandbox tokens of the notebook HTML frame */
  sandbox: string;
  /** the page's own data: report, run, dagRun, base, other */
  data: Readonly<Record<string, string | undefined>>;
  api: Api;
  /** where the page draws itself */
  app: HTMLElement;
}

export function readContext(body: HTMLElement = document.body, api?: Api): Context {
  const { page = "", root = "", airflow = "", sandbox = "", ...data } = body.dataset;
  const app = document.getElementById("app") ?? body;
  return { page, root, airflow, sandbox, data, api: api ?? createApi(root), app };
}

/** A required data-* value of the page. */
export function need(ctx: Context, key: string): string {
  const value = ctx.data[key];
  if (value === undefined) throw new Error(`page data ${key} is missing`);
  return value;
}
