import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests, type Me, type TicketState } from "../api/client";
import { en } from "../i18n/en";
import { ru } from "../i18n/ru";
import { I18nProvider } from "../i18n";
import { Router } from "../router";
import { Ticket } from "./Ticket";
import { MAX_ATTACHMENT_BYTES } from "./tickets";

const ME = { id: "u1", display_name: "Anna", phone: "+79990000001" } as Me;

function details(state: TicketState) {
  return {
    ticket: {
      id: "t1",
      number: "T-2026-000042",
      type: "complaint",
      topic: "No data in Kazan",
      description: "Since 9:00.",
      severity: "high",
      priority: "normal",
      state,
      assigned: true,
      auto_close_at: null,
      contact_msisdn: "+79990000001",
      created_at: "2026-12-07T09:00:00Z",
      created_by: "u1",
      node_id: "n1",
      note_count: 1,
      related: { lines: ["+79990000002"], operation_id: null, bill_id: null },
      service_level: {},
      updated_at: "2026-12-07T10:00:00Z",
    },
    notes: [
      {
        id: "n1",
        author_id: "s1",
        author_kind: "support",
        body: "A cell is down.",
        created_at: "2026-12-07T10:00:00Z",
        attachments: [],
      },
    ],
    history: [
      {
        action: "created",
        actor_id: "u1",
        actor_kind: "customer",
        from_state: null,
        to_state: "acknowledged",
        occurred_at: "2026-12-07T09:00:00Z",
        reason: null,
      },
    ],
  };
}

function json(body: unknown, status = 200) {
  const type = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
}

function show(language: "en" | "ru" = "en") {
  render(
    <I18nProvider language={language}>
      <Router>
        <Ticket id="t1" me={ME} />
      </Router>
    </I18nProvider>,
  );
}

function choose(...files: File[]) {
  fireEvent.change(document.querySelector('input[type="file"]')!, { target: { files } });
}

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("a ticket's page", () => {
  it("offers only the moves its state allows: a resolved one is confirmed or reopened, not cancelled", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(json(details("resolved")))
      .mockResolvedValueOnce(json(details("closed").ticket))
      .mockResolvedValueOnce(json(details("closed")));
    vi.stubGlobal("fetch", fetch);
    show();

    expect(await screen.findByText("A cell is down.")).toBeTruthy();
    expect(screen.getByText(en["ticket.progress.resolved"], { exact: false })).toBeTruthy(); // a complaint says what is done
    expect(screen.queryByRole("button", { name: en["ticket.cancel"] })).toBeNull();
    expect(screen.getByRole("button", { name: en["ticket.reopen"] })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: en["ticket.confirm"] }));

    await waitFor(() => expect(screen.getByTestId("ticket-state").textContent).toBe(en["ticket.state.closed"]));
    const [address, init] = fetch.mock.calls[1] as [string, RequestInit];
    expect([init.method, address]).toEqual(["POST", "/v1/tickets/t1/confirm-resolution"]);
    // Closed: no move left, and no more notes.
    expect(screen.queryByRole("button", { name: en["ticket.reopen"] })).toBeNull();
    expect(screen.queryByRole("button", { name: en["ticket.send"] })).toBeNull();
  });

  it("refuses a file over the limit before sending it, in the user's words", async () => {
    const fetch = vi.fn().mockResolvedValueOnce(json(details("inProgress")));
    vi.stubGlobal("fetch", fetch);
    show("ru");
    await screen.findByText("A cell is down.");
    expect(screen.getByRole("button", { name: ru["ticket.cancel"] })).toBeTruthy();

    const big = new File(["x"], "scan.pdf", { type: "application/pdf" });
    Object.defineProperty(big, "size", { value: MAX_ATTACHMENT_BYTES + 1 });
    choose(big);
    expect(screen.getByRole("alert").textContent).toContain(ru["errors.ATTACHMENT_TOO_LARGE"]);

    fireEvent.change(screen.getByLabelText(ru["ticket.noteBody"]), { target: { value: "Вот скан." } });
    fireEvent.click(screen.getByRole("button", { name: ru["ticket.send"] }));
    await Promise.resolve();
    expect(fetch).toHaveBeenCalledTimes(1); // only the ticket's read: nothing was uploaded
  });

  it("shows the API's refusal of a file translated, and writes no note", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(json(details("inProgress")))
      .mockResolvedValueOnce(json({ reason: "ATTACHMENT_TYPE_NOT_ALLOWED", detail: "an executable" }, 415));
    vi.stubGlobal("fetch", fetch);
    show("ru");
    await screen.findByText("A cell is down.");

    choose(new File(["MZ"], "invoice.pdf", { type: "application/pdf" }));
    fireEvent.change(screen.getByLabelText(ru["ticket.noteBody"]), { target: { value: "Счёт." } });
    fireEvent.click(screen.getByRole("button", { name: ru["ticket.send"] }));

    expect((await screen.findByRole("alert")).textContent).toContain(ru["errors.ATTACHMENT_TYPE_NOT_ALLOWED"]);
    expect(fetch).toHaveBeenCalledTimes(2);
    const [address, init] = fetch.mock.calls[1] as [string, RequestInit];
    expect(address).toBe("/v1/tickets/t1/attachments?filename=invoice.pdf");
    expect(init.body).toBeInstanceOf(File);
  });
});
