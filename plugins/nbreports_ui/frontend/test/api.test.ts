import { describe, expect, it, vi } from "vitest";
import { ApiError, apiUrl, createApi } from "../src/lib/api";

const response = (status: number, body: unknown, statusText = ""): Response =>
  new Response(JSON.stringify(body), { status, statusText, headers: { "Content-Type": "application/json" } });

describe("api", () => {
  it("builds URLs under <root>/api and drops empty parameters", () => {
    const url = apiUrl("/nbreports", "/reports", { q: "sales", owner: "", tag: null, limit: 25 }, "http://x");
    expect(url.href).toBe("http://x/nbreports/api/reports?q=sales&limit=25");
  });

  it("GETs JSON with the session's cookies", async () => {
    const fetchImpl = vi.fn(() => Promise.resolve(response(200, { total: 1 })));
    const api = createApi("/nbreports", fetchImpl);
    await expect(api.get("/reports")).resolves.toEqual({ total: 1 });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [URL, RequestInit];
    expect(url.pathname).toBe("/nbreports/api/reports");
    expect(init.credentials).toBe("same-origin");
    expect(init.method).toBeUndefined();
  });

  it("turns an error answer into ApiError with the server's detail", async () => {
    const api = createApi("", () => Promise.resolve(response(404, { detail: "no report 'x'" })));
    const err: unknown = await api.get("/reports/x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(404);
    expect((err as ApiError).message).toBe("no report 'x'");
  });

  it("falls back to the status text when the body is not JSON", async () => {
    const api = createApi("", () => Promise.resolve(new Response("oops", { status: 502, statusText: "Bad Gateway" })));
    await expect(api.get("/reports")).rejects.toMatchObject({ status: 502, message: "Bad Gateway" });
  });

  it("sends writes as JSON with the header the server asks of cookie writes", async () => {
    const fetchImpl = vi.fn(() => Promise.resolve(response(200, { sha256: "x" })));
    await expect(createApi("/nbreports", fetchImpl).send("PUT", "/reports/r/access", { view: {} }))
      .resolves.toEqual({ sha256: "x" });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [URL, RequestInit];
    expect(url.pathname).toBe("/nbreports/api/reports/r/access");
    expect(init.method).toBe("PUT");
    expect(init.body).toBe('{"view":{}}');
    expect((init.headers as Record<string, string>)["X-Requested-With"]).toBe("nbreports");
  });
});
