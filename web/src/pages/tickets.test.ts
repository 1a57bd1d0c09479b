import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests } from "../api/client";
import {
  allowedActions,
  fileRefusal,
  MAX_ATTACHMENT_BYTES,
  refusals,
  takesNotes,
  TICKET_STATES,
  uploadAll,
} from "./tickets";

function file(name: string, size: number, type = ""): File {
  const made = new File(["x"], name, { type });
  Object.defineProperty(made, "size", { value: size });
  return made;
}

describe("the moves a ticket's state gives its customer", () => {
  it("follow ticketing's matrix for every state", () => {
    const expected: Record<(typeof TICKET_STATES)[number], string[]> = {
      acknowledged: ["cancel"],
      inProgress: ["cancel"],
      pending: ["cancel"],
      held: ["cancel"],
      resolved: ["confirm-resolution", "reopen"],
      closed: [],
      cancelled: [],
      rejected: [],
    };
    for (const state of TICKET_STATES) expect(allowedActions(state), state).toEqual(expected[state]);
  });

  it("take notes until the ticket has ended", () => {
    expect(TICKET_STATES.filter(takesNotes)).toEqual(["acknowledged", "inProgress", "pending", "held", "resolved"]);
  });
});

describe("a file checked before it is sent", () => {
  it("passes when within the limits", () => {
    expect(fileRefusal(file("bill.pdf", 1000, "application/pdf"))).toBeNull();
    expect(fileRefusal(file("scan.JPG", MAX_ATTACHMENT_BYTES))).toBeNull();
    expect(fileRefusal(file("notes", 10, "text/plain"))).toBeNull();
  });

  it("is refused for its size, type or name, with the API's reasons", () => {
    expect(fileRefusal(file("big.pdf", MAX_ATTACHMENT_BYTES + 1))).toBe("ATTACHMENT_TOO_LARGE");
    expect(fileRefusal(file("setup.exe", 10, "application/x-msdownload"))).toBe("ATTACHMENT_TYPE_NOT_ALLOWED");
    expect(fileRefusal(file("a\u202egpj.exe", 10))).toBe("INVALID_FILENAME");
    expect(fileRefusal(file("empty.txt", 0))).toBe("ATTACHMENT_EMPTY");
  });

  it("is at most five to a note", () => {
    const six = Array.from({ length: 6 }, (_, i) => file(`f${i}.txt`, 10));
    expect(refusals(six).map((r) => r.reason)).toEqual(["TOO_MANY_ATTACHMENTS"]);
    expect(refusals(six.slice(0, 5))).toEqual([]);
  });
});

describe("uploading a note's files", () => {
  beforeEach(() => resetSessionForTests());
  afterEach(() => vi.unstubAllGlobals());

  it("sends nothing when a file breaks a limit known here", async () => {
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    const big = file("big.pdf", MAX_ATTACHMENT_BYTES + 1);
    const result = await uploadAll("t1", [file("ok.pdf", 10), big]);
    expect(result).toEqual({ ids: [], refused: [{ file: big, reason: "ATTACHMENT_TOO_LARGE" }] });
    expect(fetch).not.toHaveBeenCalled();
  });

  it("sends each file's bytes as the body, its name in the address, and keeps the API's refusals", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(
        new Response(JSON.stringify({ id: "a1", filename: "ok.pdf" }), {
          status: 201,
          headers: { "Content-Type": "application/json" },
        }),
      )
      .mockResolvedValueOnce(
        new Response(JSON.stringify({ reason: "ATTACHMENT_TYPE_NOT_ALLOWED", detail: "not a PDF" }), {
          status: 415,
          headers: { "Content-Type": "application/problem+json" },
        }),
      );
    vi.stubGlobal("fetch", fetch);
    const good = file("ok.pdf", 10);
    const disguised = file("отчёт тест.pdf", 10);
    const result = await uploadAll("t 1", [good, disguised]);
    expect(result.ids).toEqual(["a1"]);
    expect(result.refused).toEqual([{ file: disguised, reason: "ATTACHMENT_TYPE_NOT_ALLOWED" }]);
    const [address, init] = fetch.mock.calls[0] as [string, RequestInit];
    expect(address).toBe("/v1/tickets/t%201/attachments?filename=ok.pdf");
    expect(init.method).toBe("POST");
    expect(init.body).toBe(good);
    expect((init.headers as Record<string, string>)["Content-Type"]).toBe("application/octet-stream");
    const [second] = fetch.mock.calls[1] as [string];
    expect(new URL(second, "http://x").searchParams.get("filename")).toBe("отчёт тест.pdf");
  });
});
