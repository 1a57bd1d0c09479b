import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests } from "./api/client";
import { I18nProvider } from "./i18n";
import { IdleGuard } from "./IdleGuard";
import { IdleTimer, type Clock } from "./idle";

/** A clock that moves only when told to, firing what fell due on the way. */
class FakeClock implements Clock {
  time = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private next = 1;
  now = () => this.time;
  setTimeout = (callback: () => void, ms: number) => {
    const id = this.next++;
    this.timers.set(id, { at: this.time + ms, callback });
    return id;
  };
  clearTimeout = (handle: unknown) => void this.timers.delete(handle as number);
  advance(ms: number) {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }
}

const MINUTE = 60_000;

describe("the idle timer", () => {
  it("warns in the last minute, counting down, then times out at the limit", () => {
    const clock = new FakeClock();
    const warnings: number[] = [];
    const timeout = vi.fn();
    new IdleTimer({ clock, onWarning: (left) => warnings.push(left), onTimeout: timeout });

    clock.advance(19 * MINUTE - 1);
    expect(warnings).toEqual([]);
    clock.advance(1);
    expect(warnings).toEqual([MINUTE]);
    clock.advance(30_000);
    expect(warnings.at(-1)).toBe(30_000);
    expect(timeout).not.toHaveBeenCalled();
    clock.advance(30_000);
    expect(timeout).toHaveBeenCalledOnce();
    clock.advance(60 * MINUTE);
    expect(timeout).toHaveBeenCalledOnce();
  });

  it("counts from the last activity, which the warning ignores until the user chooses to stay", () => {
    const clock = new FakeClock();
    const warned = vi.fn();
    const timeout = vi.fn();
    const timer = new IdleTimer({ clock, onWarning: warned, onTimeout: timeout });

    clock.advance(15 * MINUTE);
    timer.activity();
    clock.advance(18 * MINUTE);
    expect(warned).not.toHaveBeenCalled();
    clock.advance(1 * MINUTE);
    expect(warned).toHaveBeenCalled();
    timer.activity(); // a stray movement does not hide the warning
    expect(timer.warningShown).toBe(true);
    timer.stay();
    expect(timer.warningShown).toBe(false);
    clock.advance(19 * MINUTE - 1);
    expect(timeout).not.toHaveBeenCalled();
    clock.advance(MINUTE + 1);
    expect(timeout).toHaveBeenCalledOnce();
  });

  it("does nothing once stopped", () => {
    const clock = new FakeClock();
    const timeout = vi.fn();
    const timer = new IdleTimer({ clock, limitMs: 1000, warningMs: 100, onWarning: () => undefined, onTimeout: timeout });
    timer.stop();
    clock.advance(5000);
    expect(timeout).not.toHaveBeenCalled();
  });
});

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("the idle warning", () => {
  beforeEach(() => resetSessionForTests());
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("shows a countdown, renews the session when the user stays, and signs out at the limit", async () => {
    const clock = new FakeClock();
    const fetch = vi
      .fn()
      .mockResolvedValue(answer(200, { access_token: "a2", refresh_token: null, token_type: "Bearer", expires_in: 600 }));
    vi.stubGlobal("fetch", fetch);
    const timeout = vi.fn();
    const root = document.body.appendChild(Object.assign(document.createElement("div"), { id: "root" }));
    render(
      <I18nProvider language="en">
        <main>The page</main>
        <IdleGuard clock={clock} limitMs={10_000} warningMs={3_000} onTimeout={timeout} onSignOut={() => undefined} />
      </I18nProvider>,
      { container: root },
    );
    const behind = screen.getByRole("main");
    expect(screen.queryByRole("alertdialog")).toBeNull();

    act(() => clock.advance(7_000));
    const dialog = screen.getByRole("alertdialog", { name: "Are you still there?" });
    expect(behind.inert).toBe(true);
    expect(dialog.textContent).toContain("You will be signed out in 3 s.");
    const stay = screen.getByRole("button", { name: "Stay signed in" });
    expect(document.activeElement).toBe(stay);
    act(() => clock.advance(1_000));
    expect(dialog.textContent).toContain("You will be signed out in 2 s.");

    await act(async () => fireEvent.click(stay));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(behind.inert).toBe(false);
    const [url, init] = fetch.mock.calls[0]!;
    expect([url, init.method, init.headers["X-SIMfleet-Client"]]).toEqual(["/v1/auth/refresh", "POST", "browser"]);

    act(() => clock.advance(9_999));
    expect(timeout).not.toHaveBeenCalled();
    act(() => clock.advance(1));
    expect(timeout).toHaveBeenCalledOnce();
    expect(screen.queryByRole("alertdialog")).toBeNull();
  });

  it("keeps the warning when the session has already ended on the server", async () => {
    const clock = new FakeClock();
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(answer(401, { status: 401, reason: "SESSION_EXPIRED" })));
    render(
      <I18nProvider language="en">
        <IdleGuard clock={clock} limitMs={10_000} warningMs={3_000} onTimeout={() => undefined} onSignOut={() => undefined} />
      </I18nProvider>,
    );
    act(() => clock.advance(8_000));
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Stay signed in" })));
    expect(screen.getByRole("alertdialog")).toBeTruthy();
  });
});
