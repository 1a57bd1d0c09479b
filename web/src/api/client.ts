// The console's one way to the API. The access token lives in this module's memory only; the refresh
// token never reaches JavaScript at all: the gateway keeps it in an httpOnly cookie for requests that say
// X-SIMfleet-Client: browser, and POST /v1/auth/refresh (no body, same header) renews the pair from it.
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Tokens = Schemas["TokensResponse"];
export type Me = Schemas["MeResponse"];
export type Line = Schemas["LineResponse"];
export type LinesPage = Schemas["LinesPage"];
export type LinesQuery = NonNullable<paths["/v1/lines"]["get"]["parameters"]["query"]>;
export type SignInsPage = Schemas["SignInsPage"];
export type Challenge = Schemas["ChallengeResponse"];
export type Channel = Schemas["StartOtpRequest"]["channel"];
export type Operation = Schemas["OperationResponse"];

export const CLIENT_HEADER = "X-SIMfleet-Client";

/** An answer of the API that is not a success: its problem's stable reason (e.g. OTP_INVALID). */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, detail: string) {
    super(detail || reason);
    this.name = "ApiError";
    this.status = status;
    this.reason = reason;
  }
}

/** The server could not be reached at all. */
export class NetworkError extends Error {
  readonly reason = "NETWORK";
}

let accessToken: string | null = null;
/** When the server last saw this session (Date.now()): a call that carried the token, or a renewal. */
let lastContact = 0;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<(signedIn: boolean) => void>();

export function isSignedIn(): boolean {
  return accessToken !== null;
}

export function onSessionChange(listener: (signedIn: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setAccessToken(token: string | null): void {
  const changed = (token === null) !== (accessToken === null);
  accessToken = token;
  if (changed) listeners.forEach((listener) => listener(token !== null));
}

type Query = Record<string, string | number | readonly string[] | undefined | null>;

interface Options {
  query?: Query;
  body?: unknown;
  /** Send the access token, and on a 401 renew the session once and try again. */
  auth?: boolean;
}

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(method: string, path: string, options: Options): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", [CLIENT_HEADER]: "browser" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(url(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (error) {
    throw new NetworkError(String(error));
  }
}

async function problem(response: Response): Promise<ApiError> {
  let reason = "UNKNOWN";
  let detail = "";
  try {
    const body = (await response.json()) as { reason?: string; detail?: string };
    reason = body.reason ?? reason;
    detail = body.detail ?? "";
  } catch {
    // Not a problem document (a proxy's page, say): the status alone tells.
  }
  return new ApiError(response.status, reason, detail);
}

export async function request<T>(method: string, path: string, options: Options = {}): Promise<T> {
  let response = await send(method, path, options);
  if (response.status === 401 && options.auth) {
    if (await refreshSession()) response = await send(method, path, options);
    else setAccessToken(null);
  }
  if (!response.ok) throw await problem(response);
  if (options.auth) lastContact = Date.now();
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

function signedIn(tokens: Tokens): Tokens {
  setAccessToken(tokens.access_token);
  lastContact = Date.now();
  return tokens;
}

/** Milliseconds since the server last saw this session (identity counts its idle time from then). */
export function sinceLastContact(): number {
  return Date.now() - lastContact;
}

/** Renew the session from the cookie (one request at a time); false when there is none to renew. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const response = await send("POST", "/v1/auth/refresh", {});
      if (!response.ok) {
        setAccessToken(null);
        return false;
      }
      signedIn((await response.json()) as Tokens);
      lastContact = Date.now();
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export const api = {
  requestCode: (phone: string, channel: Channel = "sms") =>
    request<Challenge>("POST", "/v1/auth/otp", { body: { phone, channel } }),
  verifyCode: async (challengeId: string, code: string) =>
    signedIn(await request<Tokens>("POST", "/v1/auth/otp/verify", { body: { challenge_id: challengeId, code } })),
  signInWithPassword: async (phone: string, password: string) =>
    signedIn(await request<Tokens>("POST", "/v1/auth/password", { body: { phone, password } })),
  requestPasswordReset: (phone: string, channel: Channel) =>
    request<Challenge>("POST", "/v1/auth/password-reset", { body: { phone, channel } }),
  /** The forced change of ID-5: the code alone opens no session; it sets a new permanent password and signs in. */
  confirmPasswordReset: async (challengeId: string, code: string, newPassword: string) =>
    signedIn(
      await request<Tokens>("POST", "/v1/auth/password-reset/confirm", {
        body: { challenge_id: challengeId, code, new_password: newPassword },
      }),
    ),
  signOut: async () => {
    try {
      await request<void>("POST", "/v1/auth/logout", { auth: true });
    } finally {
      setAccessToken(null);
    }
  },
  me: () => request<Me>("GET", "/v1/me", { auth: true }),
  lines: (query: LinesQuery) => request<LinesPage>("GET", "/v1/lines", { auth: true, query: query as Query }),
  line: (msisdn: string) => request<Line>("GET", `/v1/lines/${encodeURIComponent(msisdn)}`, { auth: true }),
  /** Asks for a lines' block or unblock (voluntary) by number: the simplified view's actions. */
  setBlocked: (msisdn: string, blocked: boolean) =>
    request<Operation>("POST", "/v1/operations", {
      auth: true,
      body: { type: blocked ? "block" : "unblock", lines: [msisdn], params: { block_type: "voluntary" } },
    }),
  operation: (id: string) => request<Operation>("GET", `/v1/operations/${encodeURIComponent(id)}`, { auth: true }),
  mySignIns: () => request<SignInsPage>("GET", "/v1/me/sign-ins", { auth: true, query: { limit: 50 } }),
};

/** For tests: forget the session without asking the server. */
export function resetSessionForTests(): void {
  accessToken = null;
  refreshing = null;
  lastContact = 0;
  listeners.clear();
}
