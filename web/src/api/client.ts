// The console's one way to the API. The access token lives in this module's memory only; the refresh
// token never reaches JavaScript at all: the gateway keeps it in an httpOnly cookie for requests that say
// X-SIMfleet-Client: browser, and POST /v1/auth/refresh (no body, same header) renews the pair from it.
import type { components, paths } from "./schema";
import { SseParser } from "./sse";

export type Schemas = components["schemas"];
export type Tokens = Schemas["TokensResponse"];
export type Me = Schemas["MeResponse"];
export type Line = Schemas["LineResponse"];
export type LinesPage = Schemas["LinesPage"];
export type LinesQuery = NonNullable<paths["/v1/lines"]["get"]["parameters"]["query"]>;
export type SavedFilter = Schemas["SavedFilterResponse"];
export type SavedFilterBody = Schemas["SavedFilterBody"];
export type SavedFiltersList = Schemas["SavedFiltersList"];
export type LineGroup = Schemas["LineGroupResponse"];
export type NewLineGroup = Schemas["NewLineGroup"];
export type LineGroupChange = Schemas["LineGroupChange"];
export type GroupIcon = LineGroup["icon"];
export type GroupColour = LineGroup["colour"];
export type SignInsPage = Schemas["SignInsPage"];
export type Challenge = Schemas["ChallengeResponse"];
export type Channel = Schemas["StartOtpRequest"]["channel"];
export type User = Schemas["UserResponse"];
export type UsersPage = Schemas["UsersPage"];
export type UsersQuery = NonNullable<paths["/v1/users"]["get"]["parameters"]["query"]>;
export type InviteUser = Schemas["InviteUserRequest"];
/** A grant as the users API tells it (a role over a node); `Grant` below is the token's claim. */
export type UserGrant = Schemas["GrantResponse"];
export type GrantBody = Schemas["GrantBody"];
export type Role = Schemas["RoleResponse"];
export type RoleBody = Schemas["RoleBody"];
export type Permission = Schemas["PermissionItem"];
export type AuditEvent = Schemas["AuditEventResponse"];
export type AuditEventsPage = Schemas["AuditEventsPage"];
export type AuditQuery = NonNullable<paths["/v1/audit-events"]["get"]["parameters"]["query"]>;
export type Preferences = Schemas["PreferencesResponse"];
export type PreferencesChange = Schemas["PreferencesRequest"];
export type NoticesPage = Schemas["NoticesPage"];
export type NodeData = Schemas["NodeResponse"];
export type NodeSummary = Schemas["NodeSummary"];
export type NodeFinances = Schemas["NodeFinancesResponse"];
export type Operation = Schemas["OperationResponse"];
export type OperationsPage = Schemas["OperationsPage"];
export type OperationItem = Schemas["ItemResponse"];
export type OperationItemsPage = Schemas["ItemsPage"];
export type OperationRequest = paths["/v1/operations"]["post"]["requestBody"]["content"]["application/json"];
export type OperationsQuery = NonNullable<paths["/v1/operations"]["get"]["parameters"]["query"]>;
export type OperationItemsQuery = NonNullable<paths["/v1/operations/{operation_id}/items"]["get"]["parameters"]["query"]>;
export type Puk = Schemas["PukResponse"];
export type Location = Schemas["LocationResponse"];
export type Tariff = Schemas["TariffResponse"];
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
export type Money = Schemas["MoneyResponse"];
export type Balance = Schemas["BalanceResponse"];
export type PeriodFigures = Schemas["PeriodFigures"];
export type Statement = Schemas["StatementResponse"];
export type PostingsPage = Schemas["PostingsPage"];
export type TransferRequest = Schemas["TransferRequest"];
export type Transfer = Schemas["TransferResponse"];
export type Payment = Schemas["PaymentResponse"];
export type PaymentsPage = Schemas["PaymentsPage"];
export type PaymentsQuery = NonNullable<
  paths["/v1/personal-accounts/{personal_account_id}/payments"]["get"]["parameters"]["query"]
>;
export type PromisedPayment = Schemas["PromisedPaymentResponse"];
export type PromisedPaymentsPage = Schemas["PromisedPaymentsPage"];
export type SettlementMethod = Schemas["SettlementMethodResponse"];
export type SettlementMethodRequest = Schemas["SettlementMethodRequest"];
export type AutoPayment = Schemas["AutoPaymentState"];
export type AutoPaymentRequest = Schemas["AutoPaymentRequest"];
export type Offer = Schemas["OfferResponse"];
export type PurchaseRequest = Schemas["PurchaseRequest"];
export type Purchase = Schemas["PurchaseResponse"];
export type PurchasesPage = Schemas["PurchasesPage"];
export type SpendingLimit = Schemas["SpendingLimitResponse"];
export type SpendingLimitRequest =
  | Schemas["LineLimitRequest"]
  | Schemas["NodeLimitRequest"]
  | Schemas["CompanyLimitRequest"];
export type SpendingLimitSettings = Schemas["SpendingLimitSettings"];
export type LineUsage = Schemas["LineUsageResponse"];
/** One grant of the signed-in user, as the access token carries it: a role's permissions at a node. */
export interface Grant {
  node: string;
  role: string;
  perms: string[];
}

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
  /** A file sent as it is (its bytes are the body: the attachment uploads), instead of a JSON body. */
  raw?: Blob;
  headers?: Record<string, string>;
  /** Send the access token, and on a 401 renew the session once and try again. */
  auth?: boolean;
  /** A key that makes a retry of the same request change nothing more (the API's Idempotency-Key). */
  idempotencyKey?: string;
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
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
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
  if (options.auth) lastContact = Date.now();
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

/** The signed-in user's grants, read from the access token in memory (empty when signed out). */
export function myGrants(): Grant[] {
  const payload = accessToken?.split(".")[1];
  if (!payload) return [];
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as {
      grants?: unknown;
    };
    return Array.isArray(claims.grants) ? (claims.grants as Grant[]) : [];
  } catch {
    return [];
  }
}

/** Whether any of the user's grants holds one of these permissions (what the navigation offers). */
export function mayAny(...permissions: string[]): boolean {
  return myGrants().some((grant) => grant.perms?.some((perm) => permissions.includes(perm)));
}

/** Every permission the access token's grants carry, anywhere in the tree (which sections and buttons to show). */
export function heldPermissions(): ReadonlySet<string> {
  return new Set(myGrants().flatMap((grant) => (Array.isArray(grant.perms) ? grant.perms : [])));
}

/** A new key for one intended change (a transfer, a purchase): the same key is sent again on a retry. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

const pa = (id: string) => `/v1/personal-accounts/${encodeURIComponent(id)}`;

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
  savedFilters: () => request<SavedFiltersList>("GET", "/v1/lines/saved-filters", { auth: true }),
  saveFilter: (body: SavedFilterBody) =>
    request<SavedFilter>("POST", "/v1/lines/saved-filters", { auth: true, body }),
  deleteSavedFilter: (id: string) =>
    request<void>("DELETE", `/v1/lines/saved-filters/${encodeURIComponent(id)}`, { auth: true }),
  lineGroups: (forNodeId?: string) =>
    request<Schemas["LineGroupsList"]>("GET", "/v1/lines/groups", {
      auth: true,
      query: forNodeId ? { for_node_id: forNodeId } : undefined,
    }),
  lineGroup: (id: string) => request<LineGroup>("GET", `/v1/lines/groups/${encodeURIComponent(id)}`, { auth: true }),
  createLineGroup: (body: NewLineGroup) => request<LineGroup>("POST", "/v1/lines/groups", { auth: true, body }),
  updateLineGroup: (id: string, body: LineGroupChange) =>
    request<LineGroup>("PATCH", `/v1/lines/groups/${encodeURIComponent(id)}`, { auth: true, body }),
  deleteLineGroup: (id: string) =>
    request<void>("DELETE", `/v1/lines/groups/${encodeURIComponent(id)}`, { auth: true }),
  line: (msisdn: string) => request<Line>("GET", `/v1/lines/${encodeURIComponent(msisdn)}`, { auth: true }),
  /** Asks for a lines' block or unblock (voluntary) by number: the simplified view's actions. */
  setBlocked: (msisdn: string, blocked: boolean) =>
    request<Operation>("POST", "/v1/operations", {
      auth: true,
      body: { type: blocked ? "block" : "unblock", lines: [msisdn], params: { block_type: "voluntary" } },
    }),
  puk: (msisdn: string) => request<Puk>("GET", `/v1/lines/${encodeURIComponent(msisdn)}/puk`, { auth: true }),
  location: (msisdn: string) =>
    request<Location>("GET", `/v1/lines/${encodeURIComponent(msisdn)}/location`, { auth: true }),
  tariffs: () => request<Schemas["TariffsResponse"]>("GET", "/v1/tariffs", { auth: true }),
  /** The customer's reserve SIMs: what a line's SIM may be replaced by. */
  reserveSims: (limit: number, cursor?: string) =>
    request<Schemas["ReserveSimsPage"]>("GET", "/v1/sims/reserve", { auth: true, query: { limit, cursor } }),
  /** Free numbers for a change of number, those containing ``contains`` (digits) if given. */
  freeNumbers: (contains: string, limit: number) =>
    request<Schemas["FreeNumbers"]>("GET", "/v1/numbers/free", { auth: true, query: { contains, limit } }),
  node: (id: string) => request<NodeData>("GET", `/v1/nodes/${encodeURIComponent(id)}`, { auth: true }),
  nodeChildren: (id: string, cursor?: string) =>
    request<NodesPage>("GET", `/v1/nodes/${encodeURIComponent(id)}/children`, {
      auth: true,
      query: { sort: "name", limit: 200, cursor },
    }),
  createNode: (body: Schemas["CreateNodeRequest"]) => request<NodeData>("POST", "/v1/nodes", { auth: true, body }),
  renameNode: (id: string, name: string) =>
    request<NodeData>("PATCH", `/v1/nodes/${encodeURIComponent(id)}`, { auth: true, body: { name } }),
  moveNode: (id: string, parentId: string) =>
    request<Schemas["MovedNode"]>("POST", `/v1/nodes/${encodeURIComponent(id)}/move`, {
      auth: true,
      body: { parent_id: parentId },
    }),
  deleteNode: (id: string) => request<void>("DELETE", `/v1/nodes/${encodeURIComponent(id)}`, { auth: true }),
  nodeSummary: (id: string) =>
    request<NodeSummary>("GET", `/v1/nodes/${encodeURIComponent(id)}/summary`, { auth: true }),
  operations: (query: OperationsQuery) =>
    request<OperationsPage>("GET", "/v1/operations", { auth: true, query: query as Query }),
  operation: (id: string) => request<Operation>("GET", `/v1/operations/${encodeURIComponent(id)}`, { auth: true }),
  operationItems: (id: string, query: OperationItemsQuery) =>
    request<OperationItemsPage>("GET", `/v1/operations/${encodeURIComponent(id)}/items`, {
      auth: true,
      query: query as Query,
    }),
  createOperation: (body: OperationRequest) => request<Operation>("POST", "/v1/operations", { auth: true, body }),
  cancelOperation: (id: string) =>
    request<Operation>("POST", `/v1/operations/${encodeURIComponent(id)}/cancel`, { auth: true }),
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
    request<UserGrant>("POST", `/v1/users/${encodeURIComponent(userId)}/grants`, { auth: true, body }),
  removeGrant: (userId: string, grantId: string) =>
    request<void>("DELETE", `/v1/users/${encodeURIComponent(userId)}/grants/${encodeURIComponent(grantId)}`, {
      auth: true,
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
  /** Nodes in the caller's scope, flat and parents first (the path order) unless the query says otherwise. */
  nodes: (query: {
    kind?: string[];
    root_id?: string;
    q?: string;
    limit?: number;
    cursor?: string;
    view?: string;
    sort?: string;
  }) =>
    request<NodesPage>("GET", "/v1/nodes", {
      auth: true,
      query: { view: "flat", sort: "path", ...query },
    }),
  nodeFinances: (nodeId: string, period?: string) =>
    request<NodeFinances>("GET", `/v1/nodes/${encodeURIComponent(nodeId)}/finances`, {
      auth: true,
      query: { period },
    }),
  balance: (id: string) => request<Balance>("GET", `${pa(id)}/balance`, { auth: true }),
  statement: (id: string, period?: string) =>
    request<Statement>("GET", `${pa(id)}/statement`, { auth: true, query: { period } }),
  postings: (id: string, cursor?: string) =>
    request<PostingsPage>("GET", `${pa(id)}/postings`, { auth: true, query: { limit: 20, cursor } }),
  /** A personal account's payments, newest first, narrowed by the filters given (BI-1). */
  payments: (id: string, filters: PaymentsQuery = {}) =>
    request<PaymentsPage>("GET", `${pa(id)}/payments`, { auth: true, query: { limit: 20, ...(filters as Query) } }),
  pay: (id: string, body: Schemas["PaymentRequest"], idempotencyKey: string) =>
    request<Payment>("POST", `${pa(id)}/payments`, { auth: true, body, idempotencyKey }),
  transfer: (id: string, body: TransferRequest, idempotencyKey: string) =>
    request<Transfer>("POST", `${pa(id)}/transfers`, { auth: true, body, idempotencyKey }),
  promisedPayments: (id: string) =>
    request<PromisedPaymentsPage>("GET", `${pa(id)}/promised-payments`, { auth: true, query: { limit: 10 } }),
  takePromisedPayment: (id: string, amount: number, idempotencyKey: string) =>
    request<PromisedPayment>("POST", `${pa(id)}/promised-payments`, { auth: true, body: { amount }, idempotencyKey }),
  /** A promised payment on the personal account a line is billed to. */
  takeLinePromisedPayment: (msisdn: string, amount: number, idempotencyKey: string) =>
    request<Schemas["TakenPromisedPayment"]>("POST", `/v1/lines/${encodeURIComponent(msisdn)}/promised-payment`, {
      auth: true,
      body: { amount },
      idempotencyKey,
    }),
  /** One promised payment of ``amount`` on each personal account at or under a node, each decided on its own. */
  /** One ``amount`` when the node's accounts hold one currency, else ``amounts``: currency → minor units. */
  takeGroupPromisedPayments: (nodeId: string, body: Schemas["GroupPromisedPaymentRequest"], idempotencyKey: string) =>
    request<Schemas["GroupPromisedPayments"]>("POST", `/v1/nodes/${encodeURIComponent(nodeId)}/promised-payments`, {
      auth: true,
      body,
      idempotencyKey,
    }),
  repayPromisedPayment: (id: string, promisedId: string) =>
    request<PromisedPayment>("POST", `${pa(id)}/promised-payments/${encodeURIComponent(promisedId)}/repay`, {
      auth: true,
    }),
  settlementMethod: (id: string) => request<SettlementMethod>("GET", `${pa(id)}/settlement-method`, { auth: true }),
  changeSettlementMethod: (id: string, body: SettlementMethodRequest) =>
    request<unknown>("PUT", `${pa(id)}/settlement-method`, { auth: true, body }),
  setBillDelivery: (id: string, email: string | null) =>
    request<unknown>("PUT", `${pa(id)}/bill-delivery`, { auth: true, body: { email } }),
  autoPayment: (id: string) => request<AutoPayment>("GET", `${pa(id)}/auto-payment`, { auth: true }),
  setAutoPayment: (id: string, body: AutoPaymentRequest) =>
    request<unknown>("PUT", `${pa(id)}/auto-payment`, { auth: true, body }),
  deleteAutoPayment: (id: string) => request<void>("DELETE", `${pa(id)}/auto-payment`, { auth: true }),
  offers: () => request<{ items: Offer[] }>("GET", "/v1/packages/offers", { auth: true }),
  buyPackages: (body: PurchaseRequest, idempotencyKey: string) =>
    request<Purchase>("POST", "/v1/packages/purchases", { auth: true, body, idempotencyKey }),
  purchases: (cursor?: string) =>
    request<PurchasesPage>("GET", "/v1/packages/purchases", { auth: true, query: { limit: 20, cursor } }),
  receipt: async (purchaseId: string) => {
    const path = `/v1/packages/purchases/${encodeURIComponent(purchaseId)}/receipt`;
    return (await answer("GET", path, { auth: true })).text();
  },
  spendingLimits: () => request<{ items: SpendingLimit[] }>("GET", "/v1/spending-limits", { auth: true }),
  createSpendingLimit: (body: SpendingLimitRequest, idempotencyKey: string) =>
    request<SpendingLimit>("POST", "/v1/spending-limits", { auth: true, body, idempotencyKey }),
  changeSpendingLimit: (id: string, body: SpendingLimitSettings) =>
    request<SpendingLimit>("PUT", `/v1/spending-limits/${encodeURIComponent(id)}`, { auth: true, body }),
  deleteSpendingLimit: (id: string) =>
    request<void>("DELETE", `/v1/spending-limits/${encodeURIComponent(id)}`, { auth: true }),
  lineUsage: (msisdn: string) =>
    request<LineUsage>("GET", `/v1/lines/${encodeURIComponent(msisdn)}/usage`, { auth: true }),
};

function ticketPath(id: string): string {
  return `/v1/tickets/${encodeURIComponent(id)}`;
}

/**
 * Follow an operation's event stream (server-sent events) until it is finished or ``signal`` aborts.
 * Read with fetch, not EventSource, so that the access token goes in the Authorization header; a stream that
 * ends early (the gateway closes one after an hour) is opened again with Last-Event-ID, as EventSource would.
 */
export async function followOperation(
  id: string,
  onOperation: (operation: Operation) => void,
  signal: AbortSignal,
): Promise<void> {
  const parser = new SseParser();
  let renewed = false;
  while (!signal.aborted) {
    const headers: Record<string, string> = { Accept: "text/event-stream", [CLIENT_HEADER]: "browser" };
    if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
    if (parser.lastEventId) headers["Last-Event-ID"] = parser.lastEventId;
    let response: Response;
    try {
      response = await fetch(`/v1/operations/${encodeURIComponent(id)}/events`, {
        headers,
        credentials: "same-origin",
        cache: "no-store",
        signal,
      });
    } catch (error) {
      if (signal.aborted) return;
      throw new NetworkError(String(error));
    }
    if (response.status === 401 && !renewed) {
      renewed = true;
      if (await refreshSession()) continue;
      setAccessToken(null);
    }
    if (!response.ok || !response.body) throw await problem(response);
    renewed = false;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          if (event.event === "progress" || event.event === "finished") onOperation(JSON.parse(event.data) as Operation);
          if (event.event === "finished") return;
          if (event.event === "error") {
            const body = JSON.parse(event.data) as { status?: number; reason?: string; detail?: string };
            throw new ApiError(body.status ?? 503, body.reason ?? "UNKNOWN", body.detail ?? "");
          }
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error instanceof ApiError ? error : new NetworkError(String(error));
    }
    await new Promise((resolve) => setTimeout(resolve, parser.retry ?? 1000));
  }
}

/** For tests: forget the session without asking the server. */
export function resetSessionForTests(): void {
  accessToken = null;
  refreshing = null;
  lastContact = 0;
  listeners.clear();
}
