import { act, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { I18nProvider } from "./i18n";
import { PageFrame, lazyPage } from "./lazyPage";

function Greeting({ name }: { name: string }) {
  return <h1>Hello, {name}</h1>;
}

/** A module import the test settles by hand. */
function importing() {
  let settle: { resolve: (module: { Greeting: typeof Greeting }) => void; reject: (e: unknown) => void } | null = null;
  const load = () =>
    new Promise<{ Greeting: typeof Greeting }>((resolve, reject) => {
      settle = { resolve, reject };
    });
  return { load, settle: () => settle! };
}

describe("lazyPage and PageFrame", () => {
  it("says the page is loading, in the page's language, then shows the page with its props", async () => {
    const { load, settle } = importing();
    const Page = lazyPage(load, "Greeting");
    render(
      <I18nProvider language="en">
        <PageFrame path="/hello">
          <Page name="Anna" />
        </PageFrame>
      </I18nProvider>,
    );
    expect(screen.getByRole("status").textContent).toBe("Loading…");
    expect(screen.getByRole("main").getAttribute("aria-busy")).toBe("true");
    await act(async () => settle().resolve({ Greeting }));
    expect(await screen.findByRole("heading", { name: "Hello, Anna" })).toBeTruthy();
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("says so when the page's script cannot be fetched, and tries again on another page", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const Broken = lazyPage<{ Greeting: typeof Greeting }, "Greeting">(
      () => Promise.reject(new TypeError("Failed to fetch dynamically imported module")),
      "Greeting",
    );
    const Working = lazyPage(async () => ({ Greeting }), "Greeting");
    const { rerender } = render(
      <I18nProvider language="en">
        <PageFrame path="/broken">
          <Broken name="x" />
        </PageFrame>
      </I18nProvider>,
    );
    expect((await screen.findByRole("alert")).textContent).toBe("This page could not be loaded. Reload to try again.");
    expect(screen.getByRole("button", { name: "Reload" })).toBeTruthy();
    rerender(
      <I18nProvider language="en">
        <PageFrame path="/hello">
          <Working name="Boris" />
        </PageFrame>
      </I18nProvider>,
    );
    expect(await screen.findByRole("heading", { name: "Hello, Boris" })).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
