import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ApiError,
  CLIENT_HEADER,
  NetworkError,
  api,
  filenameOf,
  isSignedIn,
  refreshSession,
  resetSessionForTests,
} from "./client";

type Call = { url: string; init: RequestInit };

function json(status: number, body: unknown, type = "application/json"): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
}

function problem(status: number, reason: string): Response {
  return json(status, { status, reason, detail: reason.toLowerCase() }, "application/problem+json");
}

function tokens(n: number) {
  return { access_token: `access-${n}`, refresh_token: null, token_type: "Bearer", expires_in: 600 };
}

let calls: Call[];
let answers: Response[];

beforeEach(() => {
  resetSessionForTests();
  localStorage.clear();
  sessionStorage.clear();
  calls = [];
  answers = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      const next = answers.shift();
      if (!next) throw new Error(`no answer scripted for ${url}`);
      return next;
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function header(call: Call, name: string): string | undefined {
  return (call.init.headers as Record<string, string>)[name];
}

describe("the API client", () => {
  it("signs in as a browser and keeps the access token in memory only", async () => {
    answers.push(json(200, tokens(1)));
    await api.signInWithPassword("+79990000001", "Example-Passw0rd-1");

    expect(isSignedIn()).toBe(true);
    const [call] = calls;
    expect(call!.url).toBe("/v1/auth/password");
    expect(header(call!, CLIENT_HEADER)).toBe("browser");
    expect(call!.init.credentials).toBe("same-origin");
    expect(JSON.parse(String(call!.init.body))).toEqual({ phone: "+79990000001", password: "Example-Passw0rd-1" });
    // Nothing about the session reaches storage.
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(document.cookie).toBe("");
  });

  it("sends the access token and the query, repeated parameters as such", async () => {
    answers.push(json(200, tokens(1)), json(200, { items: [], next_cursor: null }));
    await api.signInWithPassword("+79990000001", "pw");
    await api.lines({ limit: 200, state: ["active", "blocked"], q: "+7999", cursor: undefined });

    const call = calls[1]!;
    expect(call.url).toBe("/v1/lines?limit=200&state=active&state=blocked&q=%2B7999");
    expect(header(call, "Authorization")).toBe("Bearer access-1");
  });

  it("renews an expired access token from the cookie once, and repeats the call", async () => {
    answers.push(json(200, tokens(1)), problem(401, "UNAUTHENTICATED"), json(200, tokens(2)), json(200, { id: "u1" }));
    await api.signInWithPassword("+79990000001", "pw");

    const me = await api.me();

    expect(me).toEqual({ id: "u1" });
    expect(calls.map((c) => c.url)).toEqual(["/v1/auth/password", "/v1/me", "/v1/auth/refresh", "/v1/me"]);
    const refresh = calls[2]!;
    expect(refresh.init.body).toBeUndefined();
    expect(header(refresh, CLIENT_HEADER)).toBe("browser");
    expect(header(refresh, "Authorization")).toBeUndefined();
    expect(header(calls[3]!, "Authorization")).toBe("Bearer access-2");
  });

  it("signs out when the session cannot be renewed", async () => {
    answers.push(json(200, tokens(1)), problem(401, "UNAUTHENTICATED"), problem(401, "REFRESH_TOKEN_INVALID"));
    await api.signInWithPassword("+79990000001", "pw");

    await expect(api.me()).rejects.toMatchObject({ status: 401, reason: "UNAUTHENTICATED" });
    expect(isSignedIn()).toBe(false);
  });

  it("makes one refresh for calls that fail together", async () => {
    answers.push(json(200, tokens(5)));
    const [a, b] = await Promise.all([refreshSession(), refreshSession()]);
    expect([a, b]).toEqual([true, true]);
    expect(calls).toHaveLength(1);
  });

  it("turns a problem into an ApiError with its reason", async () => {
    answers.push(problem(401, "BAD_CREDENTIALS"));
    const error = await api.signInWithPassword("+79990000001", "wrong").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).reason).toBe("BAD_CREDENTIALS");
    expect(isSignedIn()).toBe(false);
  });

  it("says when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(api.requestCode("+79990000001")).rejects.toBeInstanceOf(NetworkError);
  });
});

describe("files through the API client", () => {
  it("uploads a file's bytes as the body with the session, renewed once on a 401 and sent again", async () => {
    answers.push(json(200, tokens(1)));
    await api.signInWithPassword("+79990000001", "Example-Passw0rd-1");
    const file = new File(["%PDF-1.4"], "акт сверки.pdf", { type: "application/pdf" });
    answers.push(problem(401, "UNAUTHENTICATED"), json(200, tokens(2)), json(201, { id: "a1" }));

    expect(await api.uploadAttachment("t1", file, file.name)).toEqual({ id: "a1" });

    const [, first, refresh, again] = calls;
    expect(refresh!.url).toBe("/v1/auth/refresh");
    for (const [call, token] of [
      [first!, "access-1"],
      [again!, "access-2"],
    ] as const) {
      const address = new URL(call.url, "http://console");
      expect(address.pathname).toBe("/v1/tickets/t1/attachments");
      expect(address.searchParams.get("filename")).toBe("акт сверки.pdf");
      expect(call.init.method).toBe("POST");
      expect(call.init.body).toBe(file);
      expect(header(call, "Content-Type")).toBe("application/octet-stream");
      expect(header(call, "Authorization")).toBe(`Bearer ${token}`);
    }
  });

  it("files a ticket with its Idempotency-Key", async () => {
    answers.push(json(201, { id: "t1" }));
    await api.fileTicket(
      { node_id: "n1", type: "question", topic: "T", description: "D", severity: "low", priority: "normal" },
      "key-1",
    );
    expect(header(calls[0]!, "Idempotency-Key")).toBe("key-1");
    expect(header(calls[0]!, CLIENT_HEADER)).toBe("browser");
  });

  it("downloads a file with the name its Content-Disposition gives", async () => {
    answers.push(
      new Response("%PDF-1.4", {
        status: 200,
        headers: {
          "Content-Type": "application/pdf",
          "Content-Disposition": "attachment; filename=\"akt.pdf\"; filename*=UTF-8''%D0%B0%D0%BA%D1%82.pdf",
        },
      }),
    );
    const file = await api.downloadAttachment("t1", "a1");
    expect(file.filename).toBe("акт.pdf");
    expect(await file.blob.text()).toBe("%PDF-1.4");
    expect(calls[0]!.url).toBe("/v1/tickets/t1/attachments/a1");
    expect(header(calls[0]!, "Accept")).toBe("*/*");
  });

  it("reads a file's name from either form of Content-Disposition", () => {
    expect(filenameOf('attachment; filename="form.pdf"')).toBe("form.pdf");
    expect(filenameOf("attachment; filename*=UTF-8''%E2%9C%93.txt")).toBe("✓.txt");
    expect(filenameOf(null)).toBeNull();
  });
});
