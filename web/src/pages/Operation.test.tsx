import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests } from "../api/client";
import { I18nProvider } from "../i18n";
import { Router } from "../router";
import { Operation } from "./Operation";

function operation(state: string, succeeded: number, skipped = 0, pending = 3 - succeeded - skipped) {
  return {
    id: "op1",
    type: "block",
    state,
    cancel_requested: false,
    counts: { total: 3, succeeded, failed: 0, skipped, pending, in_progress: 0 },
    params: { block_type: "voluntary" },
    node_id: "n1",
    requested_by: "u1",
    selection: null,
    error: null,
    created_at: "2026-12-07T10:00:00Z",
    started_at: "2026-12-07T10:00:01Z",
    scheduled_at: null,
    finished_at: state === "running" ? null : "2026-12-07T10:00:05Z",
  };
}

function json(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
}

/** A text/event-stream body given in pieces that cut through events, as a network would. */
function stream(text: string, pieces: number) {
  const size = Math.ceil(text.length / pieces);
  const encoder = new TextEncoder();
  let at = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= text.length) return controller.close();
        controller.enqueue(encoder.encode(text.slice(at, at + size)));
        at += size;
      },
    }),
    { status: 200, headers: { "Content-Type": "text/event-stream" } },
  );
}

const sse = (event: string, id: string, data: unknown) => `event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`;

beforeEach(() => {
  resetSessionForTests();
  vi.stubGlobal("scrollTo", () => undefined);
  window.history.replaceState(null, "", "/operations/op1");
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("an operation's page", () => {
  it("follows the event stream to the end, then shows each line's result", async () => {
    const events =
      "retry: 2000\n\n" +
      sse("progress", "e1", operation("running", 1)) +
      ": keep-alive\n\n" +
      sse("progress", "e2", operation("running", 2)) +
      sse("finished", "e3", operation("completed_with_errors", 2, 1));
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(json(operation("running", 0)))
      .mockResolvedValueOnce(stream(events, 7))
      .mockResolvedValueOnce(
        json({
          items: [
            { id: "i1", msisdn: "+79991000001", state: "succeeded", code: null, reason: null, params: {}, position: 1, updated_at: null },
            { id: "i3", msisdn: "+79991000003", state: "skipped", code: "ALREADY_BLOCKED", reason: "", params: {}, position: 3, updated_at: null },
          ],
          next_cursor: null,
        }),
      );
    vi.stubGlobal("fetch", fetch);

    render(
      <I18nProvider language="en">
        <Router>
          <Operation id="op1" />
        </Router>
      </I18nProvider>,
    );

    expect(await screen.findByRole("heading", { name: "Operation: Block" })).toBeTruthy();
    const bar = screen.getByRole("progressbar", { name: "Progress" });
    await waitFor(() => expect(bar.getAttribute("aria-valuenow")).toBe("3"));
    expect(bar.getAttribute("aria-valuemax")).toBe("3");
    expect(screen.getByTestId("progress-text").textContent).toBe("3 of 3");
    expect(screen.getByTestId("count-succeeded").textContent).toBe("2");
    expect(screen.getByTestId("count-skipped").textContent).toBe("1");
    expect(screen.getByTestId("operation-state").textContent).toBe("Completed with errors");
    expect(await screen.findByText("ALREADY_BLOCKED")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Cancel the operation" })).toBeNull();

    const [url, init] = fetch.mock.calls[1]! as [string, RequestInit];
    expect(url).toBe("/v1/operations/op1/events");
    expect((init.headers as Record<string, string>).Accept).toBe("text/event-stream");
    expect(fetch.mock.calls[2]![0]).toBe("/v1/operations/op1/items?limit=25");
  });

  it("asks again with Last-Event-ID when the stream ends before the operation does, and can cancel", async () => {
    const cancelled = { ...operation("running", 1), cancel_requested: true };
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const streams = [
      stream("retry: 10\n\n" + sse("progress", "e1", operation("running", 1)), 2),
      stream(sse("finished", "e2", operation("cancelled", 1, 2)), 1),
    ];
    const fetch = vi.fn(async (url: string) => {
      if (url === "/v1/operations/op1") return json(operation("running", 0));
      if (url === "/v1/operations/op1/cancel") return json(cancelled);
      if (url.startsWith("/v1/operations/op1/items")) return json({ items: [], next_cursor: null });
      // The second stream opens only once the cancel was asked for.
      if (streams.length === 1) await held;
      return streams.shift()!;
    });
    vi.stubGlobal("fetch", fetch);
    render(
      <I18nProvider language="ru">
        <Router>
          <Operation id="op1" />
        </Router>
      </I18nProvider>,
    );
    await waitFor(() => expect(screen.getByTestId("progress-text").textContent).toBe("1 из 3"));
    fireEvent.click(screen.getByRole("button", { name: "Отменить операцию" }));
    await waitFor(() => expect(screen.getByTestId("operation-state").textContent).toBe("Выполняется (отменяется)"));
    expect(screen.queryByRole("button", { name: "Отменить операцию" })).toBeNull();
    release();
    await waitFor(() => expect(screen.getByTestId("operation-state").textContent).toBe("Отменена"));
    const opened = fetch.mock.calls.filter(([url]) => url === "/v1/operations/op1/events");
    expect(opened).toHaveLength(2);
    const again = (fetch.mock.calls as unknown as [string, RequestInit][]).filter(([url]) => url.endsWith("/events"))[1]![1];
    expect((again.headers as Record<string, string>)["Last-Event-ID"]).toBe("e1");
    expect(fetch.mock.calls.some(([url]) => url === "/v1/operations/op1/cancel")).toBe(true);
  });

  it("names set_group's group, and shows its id when the group cannot be read", async () => {
    const setGroup = { ...operation("completed", 3), type: "set_group", params: { group_id: "01JA5GROUP0000000000000001" } };
    const answers: Record<string, () => Response> = {
      "/v1/lines/groups/01JA5GROUP0000000000000001": () =>
        json({ id: "01JA5GROUP0000000000000001", name: "Couriers", icon: "truck", colour: "orange", node_id: "n1", line_count: 3 }),
    };
    const fetch = vi.fn(async (url: string) => {
      if (url === "/v1/operations/op1") return json(setGroup);
      if (url.startsWith("/v1/operations/op1/items")) return json({ items: [], next_cursor: null });
      return answers[url]?.() ?? problem404();
    });
    vi.stubGlobal("fetch", fetch);
    const page = () => (
      <I18nProvider language="en">
        <Router>
          <Operation id="op1" />
        </Router>
      </I18nProvider>
    );
    const shown = () => screen.getByText("Group").nextElementSibling?.textContent;
    render(page());
    await waitFor(() => expect(shown()).toBe("Couriers"));
    expect(fetch.mock.calls.filter(([url]) => url.startsWith("/v1/lines/groups/"))).toHaveLength(1);
    cleanup();

    delete answers["/v1/lines/groups/01JA5GROUP0000000000000001"]; // the group deleted since
    render(page());
    await waitFor(() => expect(shown()).toBe("01JA5GROUP0000000000000001"));
  });
});

function problem404() {
  return new Response(JSON.stringify({ title: "Not found", status: 404, reason: "LINE_GROUP_NOT_FOUND" }), {
    status: 404,
    headers: { "Content-Type": "application/problem+json" },
  });
}
