import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { usePages, type CursorPage } from "./useLoad";

/** A fetch whose answers the test gives out by hand, in any order. */
function pending() {
  const calls: { key: string; cursor: string | null; resolve: (page: CursorPage<string>) => void; reject: (e: unknown) => void }[] = [];
  const fetchFor = (key: string) => (cursor: string | null) =>
    new Promise<CursorPage<string>>((resolve, reject) => calls.push({ key, cursor, resolve, reject }));
  return { calls, fetchFor };
}

describe("usePages", () => {
  it("reads the first page, then the next by its cursor, appended", async () => {
    const { calls, fetchFor } = pending();
    const { result } = renderHook(({ key }) => usePages(fetchFor(key), key), { initialProps: { key: "a" } });
    expect(result.current.items).toBeNull();
    act(() => calls[0]!.resolve({ items: ["1", "2"], next_cursor: "c2" }));
    await waitFor(() => expect(result.current.items).toEqual(["1", "2"]));
    expect(result.current.cursor).toBe("c2");
    act(() => result.current.more());
    expect(calls[1]!.cursor).toBe("c2");
    act(() => calls[1]!.resolve({ items: ["3"], next_cursor: null }));
    await waitFor(() => expect(result.current.items).toEqual(["1", "2", "3"]));
    expect(result.current.cursor).toBeNull();
    act(() => result.current.more());
    expect(calls).toHaveLength(2); // no cursor, nothing more to ask
  });

  it("drops what comes for an older key: neither its page nor its error lands", async () => {
    const { calls, fetchFor } = pending();
    const { result, rerender } = renderHook(({ key }) => usePages(fetchFor(key), key), { initialProps: { key: "a" } });
    rerender({ key: "b" });
    rerender({ key: "c" });
    expect(calls.map((c) => c.key)).toEqual(["a", "b", "c"]);
    act(() => calls[2]!.resolve({ items: ["c1"], next_cursor: null }));
    await waitFor(() => expect(result.current.items).toEqual(["c1"]));
    act(() => calls[0]!.reject(new Error("late")));
    act(() => calls[1]!.resolve({ items: ["b1"], next_cursor: "x" }));
    await new Promise((r) => setTimeout(r, 0));
    expect(result.current.items).toEqual(["c1"]);
    expect(result.current.error).toBeNull();
    expect(result.current.cursor).toBeNull();
  });

  it("waits while not enabled", async () => {
    const { calls, fetchFor } = pending();
    const { result, rerender } = renderHook(({ on }) => usePages(fetchFor("k"), "k", on), {
      initialProps: { on: false },
    });
    expect(calls).toHaveLength(0);
    rerender({ on: true });
    expect(calls).toHaveLength(1);
    act(() => calls[0]!.reject(new Error("down")));
    await waitFor(() => expect(result.current.error).toBeInstanceOf(Error));
    expect(result.current.loading).toBe(false);
  });
});
