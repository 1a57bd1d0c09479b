import { describe, expect, it } from "vitest";
import { SseParser } from "./sse";

describe("the server-sent events parser", () => {
  it("reads named events with their ids, across pieces cut anywhere", () => {
    const text =
      "retry: 3000\n\n: keep-alive\n\nevent: progress\nid: a1\ndata: {\"n\":1}\n\nevent: finished\nid: b2\ndata: {\"n\":2}\n\n";
    // Every way of cutting the stream in two gives the same events.
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new SseParser();
      const events = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect(events).toEqual([
        { event: "progress", data: '{"n":1}', id: "a1" },
        { event: "finished", data: '{"n":2}', id: "b2" },
      ]);
      expect(parser.retry).toBe(3000);
      expect(parser.lastEventId).toBe("b2");
    }
  });

  it("joins data lines, takes \\r\\n and \\r as line ends, and dispatches nothing without data", () => {
    const parser = new SseParser();
    expect(parser.push("event: ping\r\n\r\n")).toEqual([]);
    expect(parser.push("data: one\rdata:two\r\n")).toEqual([]);
    // A lone \r at the end may be half of \r\n: the blank line is only seen with what follows.
    expect(parser.push("\r")).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "message", data: "one\ntwo", id: "" }]);
  });

  it("keeps an unfinished event until its blank line, and ignores a bad retry", () => {
    const parser = new SseParser();
    expect(parser.push("retry: soon\nevent: progress\ndata: {}")).toEqual([]);
    expect(parser.retry).toBeNull();
    expect(parser.push("\n\n")).toEqual([{ event: "progress", data: "{}", id: "" }]);
  });
});
