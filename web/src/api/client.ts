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
export type Ticket = Schemas["TicketResponse"];
export type TicketState = Ticket["state"];
export type TicketType = Ticket["type"];
export type TicketDetails = Schemas["TicketDetails"];
export type TicketsPage = Schemas["TicketsPage"];
export type TicketsQuery = NonNullable<paths["/v1/tickets"]["get"]["parameters"]["query"]>;
export type NewTicket = Schemas["NewTicketRequest"];
export type Note = Schemas["NoteResponse"];
export type NoteAdded = Schemas["NoteAdded"];
export type Attachment = Schemas["AttachmentResponse"];
export type HistoryEntry = Schemas["HistoryEntryResponse"];
export type Form = Schemas["FormResponse"];
export type Forms = Schemas["FormsResponse"];
export type FillForm = Schemas["FillFormRequest"];
export type Node = Schemas["NodeResponse"];
export type NodesPage = Schemas["NodesPage"];

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
  /** A file sent as it is (its bytes are the body: the attachment uploads), instead of a JSON body. */
  raw?: Blob;
  headers?: Record<string, string>;
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
  const headers: Record<string, string> = {
    Accept: "application/json",
    ...options.headers,
    [CLIENT_HEADER]: "browser",
  };
  if (options.raw !== undefined) headers["Content-Type"] = "application/octet-stream";
  else if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(url(path, options.query), {
      method,
      headers,
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
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

async function answer(method: string, path: string, options: Options): Promise<Response> {
  let response = await send(method, path, options);
  if (response.status === 401 && options.auth) {
    if (await refreshSession()) response = await send(method, path, options);
    else setAccessToken(null);
  }
  if (!response.ok) throw await problem(response);
  return response;
}

export async function request<T>(method: string, path: string, options: Options = {}): Promise<T> {
  const response = await answer(method, path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A file the API answers with (a download): its bytes and the name its Content-Disposition gives. */
export interface Download {
  blob: Blob;
  filename: string | null;
}

export function filenameOf(disposition: string | null): string | null {
  if (!disposition) return null;
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (encoded) {
    try {
      return decodeURIComponent(encoded[1]!.trim());
    } catch {
      // A broken encoding: the plain name, if any, below.
    }
  }
  const plain = /filename="([^"]*)"/i.exec(disposition);
  return plain ? plain[1]! : null;
}

export async function requestFile(method: string, path: string, options: Options = {}): Promise<Download> {
  const response = await answer(method, path, { ...options, headers: { Accept: "*/*", ...options.headers } });
  return { blob: await response.blob(), filename: filenameOf(response.headers.get("Content-Disposition")) };
}

function signedIn(tokens: Tokens): Tokens {
  setAccessToken(tokens.access_token);
  return tokens;
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
  nodes: () => request<NodesPage>("GET", "/v1/nodes", { auth: true, query: { limit: 1000 } }),
  tickets: (query: TicketsQuery) =>
    request<TicketsPage>("GET", "/v1/tickets", { auth: true, query: query as Query }),
  ticket: (id: string) => request<TicketDetails>("GET", ticketPath(id), { auth: true }),
  /** Files a ticket; the same key sent again (a retry) gets the same ticket, never a second one. */
  fileTicket: (ticket: NewTicket, idempotencyKey: string) =>
    request<Ticket>("POST", "/v1/tickets", { auth: true, body: ticket, headers: { "Idempotency-Key": idempotencyKey } }),
  /** Uploads a file to a ticket (its bytes as the body); the next note names it to take it. */
  uploadAttachment: (ticketId: string, file: Blob, filename: string) =>
    request<Attachment>("POST", `${ticketPath(ticketId)}/attachments`, { auth: true, raw: file, query: { filename } }),
  downloadAttachment: (ticketId: string, attachmentId: string) =>
    requestFile("GET", `${ticketPath(ticketId)}/attachments/${encodeURIComponent(attachmentId)}`, { auth: true }),
  addNote: (ticketId: string, body: string, attachmentIds: string[]) =>
    request<NoteAdded>("POST", `${ticketPath(ticketId)}/notes`, {
      auth: true,
      body: { body, attachment_ids: attachmentIds },
    }),
  moveTicket: (ticketId: string, action: "cancel" | "reopen" | "confirm-resolution", reason?: string) =>
    request<Ticket>("POST", `${ticketPath(ticketId)}/${action}`, {
      auth: true,
      body: reason ? { reason } : {},
    }),
  forms: (language: string) => request<Forms>("GET", "/v1/forms", { auth: true, query: { language } }),
  fillForm: (code: string, fill: FillForm) =>
    requestFile("POST", `/v1/forms/${encodeURIComponent(code)}/fill`, { auth: true, body: fill }),
};

function ticketPath(id: string): string {
  return `/v1/tickets/${encodeURIComponent(id)}`;
}

/** For tests: forget the session without asking the server. */
export function resetSessionForTests(): void {
  accessToken = null;
  refreshing = null;
  listeners.clear();
}
