// The operations the console offers on lines, each with its parameters as the API's request schema names
// them (POST /v1/operations is one schema per type), and the request built from a choice of lines.
import type { OperationRequest, Schemas } from "./api/client";

export type OperationType = OperationRequest["type"];
type LineState = Schemas["LineResponse"]["state"];

export type Field =
  | { name: string; kind: "choice"; values: readonly string[]; optional?: boolean }
  | { name: string; kind: "text"; optional?: boolean; ltr?: boolean }
  | { name: string; kind: "tariff" }
  | { name: string; kind: "flag" }
  | { name: string; kind: "services" }
  /** A node of the hierarchy, found by its name (NodePicker); ``only`` narrows it to nodes of one kind. */
  | { name: string; kind: "node"; optional?: boolean; only?: "personal_account" }
  | { name: string; kind: "labels" }
  /** One of the groups of lines the user sees (its id), chosen from a list of them (GroupPicker). */
  | { name: string; kind: "group" };

const BLOCK_TYPES = ["voluntary", "lost_or_stolen", "financial", "scheduled"] as const;
const CONDITIONS = ["unconditional", "busy", "no_answer", "unreachable"] as const;
export const SERVICES = ["voice", "sms", "data", "roaming", "international"] as const;

/** The types offered on a selection (those with one set of parameters for every line), in the menu's order. */
export const OPERATION_FIELDS: Partial<Record<OperationType, readonly Field[]>> = {
  block: [{ name: "block_type", kind: "choice", values: BLOCK_TYPES }],
  unblock: [{ name: "block_type", kind: "choice", values: BLOCK_TYPES }],
  activate: [],
  change_tariff: [
    { name: "tariff_code", kind: "tariff" },
    { name: "notify_subscribers", kind: "flag" },
  ],
  set_services: [
    { name: "connect", kind: "services" },
    { name: "disconnect", kind: "services" },
    { name: "notify_subscribers", kind: "flag" },
  ],
  add_apn: [
    { name: "apn", kind: "text", ltr: true },
    { name: "pdp_type", kind: "choice", values: ["ipv4", "ipv6", "ipv4v6"], optional: true },
    { name: "static_ip", kind: "text", ltr: true, optional: true },
  ],
  remove_apn: [{ name: "apn", kind: "text", ltr: true }],
  set_forwarding: [
    { name: "condition", kind: "choice", values: CONDITIONS },
    { name: "target", kind: "text", ltr: true },
  ],
  clear_forwarding: [{ name: "condition", kind: "choice", values: CONDITIONS }],
  move: [
    { name: "node_id", kind: "node", optional: true },
    { name: "personal_account_id", kind: "node", optional: true, only: "personal_account" },
  ],
  send_sms: [
    { name: "text", kind: "text" },
    { name: "sender", kind: "text", ltr: true, optional: true },
  ],
  add_labels: [{ name: "labels", kind: "labels" }],
  remove_labels: [{ name: "labels", kind: "labels" }],
  set_group: [{ name: "group_id", kind: "group" }],
  clear_group: [],
  terminate: [],
};

/** Labels as typed in one field, separated by commas (a label holds none): each trimmed, each once. */
export function parseLabels(text: string): string[] {
  return [...new Set(text.split(",").map((label) => label.trim()).filter((label) => label !== ""))];
}

export const OFFERED_TYPES = Object.keys(OPERATION_FIELDS) as OperationType[];

/**
 * The types whose parameter differs from line to line (the API's ``items[].params``): a new SIM from the
 * customer's reserve, a new number from the free ones (left empty, the pool picks one).
 */
export type ItemField = { name: string; kind: "reserve_sim" } | { name: string; kind: "free_number"; optional: true };
export const ITEM_FIELDS: Partial<Record<OperationType, ItemField>> = {
  replace_sim: { name: "iccid", kind: "reserve_sim" },
  change_number: { name: "msisdn", kind: "free_number", optional: true },
};
export const PER_LINE_TYPES = Object.keys(ITEM_FIELDS) as OperationType[];
/** The most lines a per-line operation is offered for: each gets its own row in the form. */
export const PER_LINE_MAX = 20;

/** Parameters of which a type needs at least one (the API's ``any_of``): move takes a node, an account or both. */
export const ANY_OF: Partial<Record<OperationType, readonly string[]>> = {
  move: ["node_id", "personal_account_id"],
};

/** Whether the form's values give what the type needs of its optional parameters (one of ANY_OF's). */
export function paramsComplete(type: OperationType, values: ParamValues): boolean {
  const names = ANY_OF[type];
  return !names || names.some((name) => {
    const value = values[name];
    return typeof value === "string" && value.trim() !== "";
  });
}

/** The types offered on a target: the per-line ones only on up to PER_LINE_MAX lines chosen by number. */
export function typesFor(target: Target, first?: OperationType): OperationType[] {
  const perLine = target.kind === "lines" && target.msisdns.length <= PER_LINE_MAX ? PER_LINE_TYPES : [];
  const all = [...OFFERED_TYPES, ...perLine];
  return first && all.includes(first) ? [first, ...all.filter((type) => type !== first)] : all;
}

/** Each line's own value of a per-line type's parameter, by line number (empty: none given). */
export type ItemValues = Readonly<Record<string, string>>;

/** Whether every line has what its type needs: a new SIM each for replace_sim, every value named once. */
export function itemsComplete(type: OperationType, items: ItemValues, msisdns: readonly string[]): boolean {
  const field = ITEM_FIELDS[type];
  if (!field) return true;
  const given = msisdns.map((msisdn) => (items[msisdn] ?? "").trim()).filter(Boolean);
  if (field.kind === "reserve_sim" && given.length !== msisdns.length) return false;
  return new Set(given).size === given.length;
}

/** What a form holds for one parameter: text for text and choices, true/false for flags, names for services. */
export type ParamValue = string | boolean | string[];
export type ParamValues = Record<string, ParamValue>;

/** Which lines: numbers chosen one by one, or every line the lines page's filter matches. */
export type Target =
  | { kind: "lines"; msisdns: readonly string[] }
  | {
      kind: "filter";
      nodeId?: string;
      /** Any of these states (the API's selection takes a list). */
      states?: readonly LineState[];
      tariff?: string;
      label?: string;
      group?: string;
    };

/** Whether a filter can be sent as an operation's selection: the API needs at least one of its fields. */
export function selectable(target: Target): boolean {
  if (target.kind === "lines") return target.msisdns.length > 0;
  return Boolean(target.nodeId || target.states?.length || target.tariff || target.label || target.group);
}

/** The first value each field starts with in the form. */
export function initialValues(type: OperationType): ParamValues {
  const values: ParamValues = {};
  for (const field of OPERATION_FIELDS[type] ?? []) {
    if (field.kind === "choice") values[field.name] = field.optional ? "" : field.values[0]!;
    else if (field.kind === "flag") values[field.name] = false;
    else if (field.kind === "services") values[field.name] = [];
    else values[field.name] = "";
  }
  return values;
}

/**
 * The body of POST /v1/operations: the type, its parameters (empty optional ones left out, so the API's
 * defaults apply), the lines by number or the filter as a selection, and the schedule as RFC 3339 in UTC.
 */
export function operationRequest(
  type: OperationType,
  values: ParamValues,
  target: Target,
  scheduledAt?: Date | null,
  items: ItemValues = {},
): OperationRequest {
  const params: Record<string, ParamValue> = {};
  for (const field of OPERATION_FIELDS[type] ?? []) {
    const value = values[field.name];
    if (value === undefined) continue;
    if (field.kind === "flag") {
      if (value === true) params[field.name] = true;
    } else if (field.kind === "services") {
      if (Array.isArray(value) && value.length) params[field.name] = [...value];
    } else if (field.kind === "labels") {
      if (typeof value === "string" && parseLabels(value).length) params[field.name] = parseLabels(value);
    } else if (typeof value === "string" && value.trim() !== "") params[field.name] = value.trim();
  }
  const body: Record<string, unknown> = { type, params };
  const item = ITEM_FIELDS[type];
  if (item && target.kind === "lines") {
    delete body.params;
    body.items = target.msisdns.map((msisdn) => {
      const value = (items[msisdn] ?? "").trim();
      return value ? { msisdn, params: { [item.name]: value } } : { msisdn };
    });
  } else if (target.kind === "lines") body.lines = [...target.msisdns];
  else {
    const selection: Record<string, unknown> = {};
    if (target.nodeId) selection.node_id = target.nodeId;
    if (target.states?.length) selection.state = [...target.states];
    if (target.tariff) selection.tariff = target.tariff;
    if (target.label) selection.label = target.label;
    if (target.group) selection.group = target.group;
    body.selection = selection;
  }
  if (scheduledAt) body.scheduled_at = scheduledAt.toISOString();
  return body as OperationRequest;
}

/** How many of an operation's lines have ended (succeeded, failed or skipped). */
export function ended(counts: Schemas["ItemCounts"]): number {
  return counts.succeeded + counts.failed + counts.skipped;
}
