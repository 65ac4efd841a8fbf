// The JSON API client: GET <root>/api<path>?params, and JSON writes (POST/PUT) with the header the
// server asks of cookie writes (X-Requested-With: nbreports; a cross-site form cannot send it).
// Same-origin credentials; errors as ApiError.

export type Params = Record<string, string | number | null | undefined>;

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = "ApiError";
  }
}

export type Method = "POST" | "PUT" | "DELETE";

export interface Api {
  get<T>(path: string, params?: Params): Promise<T>;
  send<T>(method: Method, path: string, body?: unknown): Promise<T>;
}

async function answer<T>(resp: Response): Promise<T> {
  const data: unknown = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const detail = (data as { detail?: unknown } | null)?.detail;
    throw new ApiError(typeof detail === "string" ? detail : resp.statusText || `HTTP ${resp.status}`, resp.status);
  }
  return data as T;
}

export function apiUrl(root: string, path: string, params?: Params, origin = location.origin): URL {
  const url = new URL(`${root}/api${path}`, origin);
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v !== "" && v !== null && v !== undefined) url.searchParams.set(k, String(v));
  }
  return url;
}

export function createApi(root: string, fetchImpl: typeof fetch = (...args) => fetch(...args)): Api {
  return {
    async get<T>(path: string, params?: Params): Promise<T> {
      return answer<T>(await fetchImpl(apiUrl(root, path, params),
        { credentials: "same-origin", headers: { Accept: "application/json" } }));
    },
    async send<T>(method: Method, path: string, body?: unknown): Promise<T> {
      return answer<T>(await fetchImpl(apiUrl(root, path), {
        method, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-Requested-With": "nbreports" },
      }));
    },
  };
}
