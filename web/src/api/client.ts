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
export type User = Schemas["UserResponse"];
export type UsersPage = Schemas["UsersPage"];
export type UsersQuery = NonNullable<paths["/v1/users"]["get"]["parameters"]["query"]>;
export type InviteUser = Schemas["InviteUserRequest"];
export type Grant = Schemas["GrantResponse"];
export type GrantBody = Schemas["GrantBody"];
export type Node = Schemas["NodeResponse"];
export type Role = Schemas["RoleResponse"];
export type RoleBody = Schemas["RoleBody"];
export type Permission = Schemas["PermissionItem"];
export type AuditEvent = Schemas["AuditEventResponse"];
export type AuditEventsPage = Schemas["AuditEventsPage"];
export type AuditQuery = NonNullable<paths["/v1/audit-events"]["get"]["parameters"]["query"]>;
export type Preferences = Schemas["PreferencesResponse"];
export type PreferencesChange = Schemas["PreferencesRequest"];
export type NoticesPage = Schemas["NoticesPage"];

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
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

function signedIn(tokens: Tokens): Tokens {
  setAccessToken(tokens.access_token);
  return tokens;
}

/**
 * The permissions the current access token carries, in any of its grants (the services decide by the same
 * claim). The console only uses them to show the sections the user may open; the API still decides.
 */
export function heldPermissions(): ReadonlySet<string> {
  const held = new Set<string>();
  const payload = accessToken?.split(".")[1];
  if (!payload) return held;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
    const claims = JSON.parse(json) as { grants?: { perms?: unknown }[] };
    for (const grant of Array.isArray(claims.grants) ? claims.grants : []) {
      for (const name of Array.isArray(grant?.perms) ? grant.perms : []) if (typeof name === "string") held.add(name);
    }
  } catch {
    // Not a token the console can read: it shows only what needs no permission.
  }
  return held;
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
  requestCode: (phone: string) =>
    request<Challenge>("POST", "/v1/auth/otp", { body: { phone, channel: "sms" } }),
  verifyCode: async (challengeId: string, code: string) =>
    signedIn(await request<Tokens>("POST", "/v1/auth/otp/verify", { body: { challenge_id: challengeId, code } })),
  signInWithPassword: async (phone: string, password: string) =>
    signedIn(await request<Tokens>("POST", "/v1/auth/password", { body: { phone, password } })),
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
  mySignIns: () => request<SignInsPage>("GET", "/v1/me/sign-ins", { auth: true, query: { limit: 50 } }),
  users: (query: UsersQuery) => request<UsersPage>("GET", "/v1/users", { auth: true, query: query as Query }),
  user: (id: string) => request<User>("GET", `/v1/users/${encodeURIComponent(id)}`, { auth: true }),
  inviteUser: (body: InviteUser) => request<Schemas["InvitedUser"]>("POST", "/v1/users", { auth: true, body }),
  setUserEnabled: (id: string, enabled: boolean) =>
    request<User>("POST", `/v1/users/${encodeURIComponent(id)}/${enabled ? "enable" : "disable"}`, { auth: true }),
  grants: (userId: string) =>
    request<Schemas["GrantsList"]>("GET", `/v1/users/${encodeURIComponent(userId)}/grants`, {
      auth: true,
      query: { limit: 200 },
    }),
  addGrant: (userId: string, body: GrantBody) =>
    request<Grant>("POST", `/v1/users/${encodeURIComponent(userId)}/grants`, { auth: true, body }),
  removeGrant: (userId: string, grantId: string) =>
    request<void>("DELETE", `/v1/users/${encodeURIComponent(userId)}/grants/${encodeURIComponent(grantId)}`, {
      auth: true,
    }),
  nodes: (cursor?: string) =>
    request<{ items: Node[]; next_cursor: string | null }>("GET", "/v1/nodes", {
      auth: true,
      query: { view: "flat", sort: "path", limit: 1000, cursor },
    }),
  roles: () => request<Schemas["RolesList"]>("GET", "/v1/roles", { auth: true, query: { limit: 1000 } }),
  permissions: () => request<Schemas["PermissionsList"]>("GET", "/v1/permissions", { auth: true }),
  createRole: (body: RoleBody) => request<Role>("POST", "/v1/roles", { auth: true, body }),
  updateRole: (id: string, body: RoleBody) =>
    request<Role>("PUT", `/v1/roles/${encodeURIComponent(id)}`, { auth: true, body }),
  deleteRole: (id: string) => request<void>("DELETE", `/v1/roles/${encodeURIComponent(id)}`, { auth: true }),
  auditEvents: (query: AuditQuery) =>
    request<AuditEventsPage>("GET", "/v1/audit-events", { auth: true, query: query as Query }),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<void>("PUT", "/v1/me/password", {
      auth: true,
      body: { current_password: currentPassword, new_password: newPassword },
    }),
  preferences: () => request<Preferences>("GET", "/v1/me/notification-preferences", { auth: true }),
  savePreferences: (body: PreferencesChange) =>
    request<Preferences>("PUT", "/v1/me/notification-preferences", { auth: true, body }),
  notices: (cursor?: string) =>
    request<NoticesPage>("GET", "/v1/me/notices", { auth: true, query: { limit: 20, cursor } }),
};

/** For tests: forget the session without asking the server. */
export function resetSessionForTests(): void {
  accessToken = null;
  refreshing = null;
  listeners.clear();
}
