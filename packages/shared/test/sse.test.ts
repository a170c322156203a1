import { describe, expect, it } from "vitest";

import { SseParser } from "../src/sse";

describe("SseParser", () => {
  it("handles events cut at any point, CRLF and multi-line data", () => {
    const text = "event: upsert\r\ndata: {\"a\":\r\ndata: 1}\r\nid: 7\r\n\r\n: comment\n\ndata: plain\n\n";
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const out = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut))];
      expect(out).toEqual([
        { event: "upsert", data: '{"a":\n1}', id: "7" },
        { event: "message", data: "plain", id: "7" },
      ]);
    }
  });

  it("keeps a leading space only once and ignores unknown fields", () => {
    const p = new SseParser();
    expect(p.feed("data:  two spaces\nretry: 10\nfoo: bar\n\n")).toEqual([{ event: "message", data: " two spaces" }]);
  });

  it("dispatches nothing for an event without data", () => {
    const p = new SseParser();
    expect(p.feed("event: end\n\n")).toEqual([]);
  });
});
