// What the tickets pages decide without asking the API: the states and types, which moves a ticket's state
// gives its customer (ticketing's lifecycle matrix, customer's column), and the attachment limits checked
// before a byte is sent (ticketing checks them again, by content).
import { api, ApiError, type Attachment, type TicketState, type TicketType } from "../api/client";

export const TICKET_STATES = [
  "acknowledged",
  "inProgress",
  "pending",
  "held",
  "resolved",
  "closed",
  "cancelled",
  "rejected",
] as const satisfies readonly TicketState[];

export const TICKET_TYPES = [
  "question",
  "fault",
  "billing_dispute",
  "complaint",
  "suggestion",
  "request_by_form",
] as const satisfies readonly TicketType[];

export const SEVERITIES = ["critical", "high", "medium", "low"] as const;

export const SORTS = ["-created_at", "created_at", "-updated_at", "updated_at", "-number", "number"] as const;
export type Sort = (typeof SORTS)[number];

/** A ticket that does not change any more. */
const FINAL: ReadonlySet<TicketState> = new Set(["closed", "cancelled", "rejected"]);
/** Still being worked on: the customer may cancel it. */
const OPEN: ReadonlySet<TicketState> = new Set(["acknowledged", "inProgress", "pending", "held"]);

export type TicketAction = "cancel" | "reopen" | "confirm-resolution";

/** The moves the customer may make from a state (lifecycle.MOVES): cancel an open ticket, reopen or
 * confirm a resolved one; nothing from a closed, cancelled or rejected one. */
export function allowedActions(state: TicketState): TicketAction[] {
  if (OPEN.has(state)) return ["cancel"];
  if (state === "resolved") return ["confirm-resolution", "reopen"];
  return [];
}

/** Whether notes (and their files) may still be written in a ticket of this state. */
export function takesNotes(state: TicketState): boolean {
  return !FINAL.has(state);
}

export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const MAX_ATTACHMENTS_PER_NOTE = 5;
const EXTENSIONS = ["pdf", "png", "jpg", "jpeg", "txt", "docx", "xlsx"];
const MEDIA_TYPES = new Set([
  "application/pdf",
  "image/png",
  "image/jpeg",
  "text/plain",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
]);
/** The types a file may be, as their names (the same in every language). */
export const FILE_TYPES = "PDF, PNG, JPEG, TXT, DOCX, XLSX";
/** For the file picker: what it offers to choose. */
export const ACCEPT = [...EXTENSIONS.map((extension) => `.${extension}`), ...MEDIA_TYPES].join(",");
const BAD_NAME = /[/\\\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/;

export type FileRefusal = "ATTACHMENT_TOO_LARGE" | "ATTACHMENT_TYPE_NOT_ALLOWED" | "INVALID_FILENAME" | "ATTACHMENT_EMPTY";

/** Why the API would refuse this file, as its reason, or null when it may be sent. */
export function fileRefusal(file: File): FileRefusal | null {
  if (!file.name.trim() || BAD_NAME.test(file.name)) return "INVALID_FILENAME";
  if (file.size > MAX_ATTACHMENT_BYTES) return "ATTACHMENT_TOO_LARGE";
  if (file.size === 0) return "ATTACHMENT_EMPTY";
  const extension = file.name.includes(".") ? file.name.split(".").pop()!.toLowerCase() : "";
  if (!EXTENSIONS.includes(extension) && !MEDIA_TYPES.has(file.type)) return "ATTACHMENT_TYPE_NOT_ALLOWED";
  return null;
}

/** A file that cannot go, and why (an API reason: errors.<reason> in the catalogues). */
export interface Refused {
  file: File;
  reason: string;
}

/** The files of one note: the first refusal found before sending (the count, then each file), or none. */
export function refusals(files: readonly File[]): Refused[] {
  const found: Refused[] = [];
  if (files.length > MAX_ATTACHMENTS_PER_NOTE)
    found.push({ file: files[MAX_ATTACHMENTS_PER_NOTE]!, reason: "TOO_MANY_ATTACHMENTS" });
  for (const file of files) {
    const reason = fileRefusal(file);
    if (reason) found.push({ file, reason });
  }
  return found;
}

/** Uploads a note's files one after another; the ids for the note, or the files the API refused and why.
 * Nothing is sent when a file breaks the limits already known here. */
export async function uploadAll(
  ticketId: string,
  files: readonly File[],
): Promise<{ ids: string[]; refused: Refused[] }> {
  const known = refusals(files);
  if (known.length) return { ids: [], refused: known };
  const ids: string[] = [];
  const refused: Refused[] = [];
  for (const file of files) {
    try {
      const stored: Attachment = await api.uploadAttachment(ticketId, file, file.name);
      ids.push(stored.id);
    } catch (caught) {
      if (!(caught instanceof ApiError)) throw caught;
      refused.push({ file, reason: caught.reason });
    }
  }
  return { ids, refused };
}

/** Hands a downloaded file to the browser as a download (an object URL on a link, then let go). */
export function saveFile(blob: Blob, filename: string): void {
  const address = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = address;
  link.download = filename;
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(address), 10_000);
}

/** A key for one submission of a form: sent again on a retry, so the API files one ticket, not two. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
