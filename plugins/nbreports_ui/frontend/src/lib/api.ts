// The JSON API client: GET <root>/api<path>?params, same-origin credentials, errors as ApiError.

export type Params = Record<string, string | number | null | undefined>;

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Api {
  get<T>(path: string, params?: Params): Promise<T>;
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
      const resp = await fetchImpl(apiUrl(root, path, params),
        { credentials: "same-origin", headers: { Accept: "application/json" } });
      const data: unknown = await resp.json().catch(() => ({}));
      if (!resp.ok) {
        const detail = (data as { detail?: unknown } | null)?.detail;
        throw new ApiError(typeof detail === "string" ? detail : resp.statusText || `HTTP ${resp.status}`,
          resp.status);
      }
      return data as T;
    },
  };
}
