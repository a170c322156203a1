/** One Server-Sent Event. */
export interface SseMessage {
  /** The `event:` field; `message` when the server named none. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The `id:` field, if any. */
  id?: string;
}

/**
 * An incremental parser of the `text/event-stream` format (WHATWG HTML §9.2): feed it text as it
 * arrives, in chunks cut anywhere, and it returns the events completed so far. Comments
 * (keep-alives) are skipped; `retry:` is ignored because reconnecting is the caller's choice.
 */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  private id: string | undefined;
  private lastWasCr = false;

  /** Parses `chunk`, returning the events it completed. */
  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = chunk;
    // A CRLF split across chunks: the LF belongs to the CR already handled.
    if (this.lastWasCr && text.startsWith("\n")) text = text.slice(1);
    this.lastWasCr = text.endsWith("\r");
    this.buffer += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = "";
        return undefined;
      }
      const message: SseMessage = { event: this.event || "message", data: this.data.join("\n") };
      if (this.id !== undefined) message.id = this.id;
      this.event = "";
      this.data = [];
      return message;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.event = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      default:
        break;
    }
    return undefined;
  }
}

/**
 * Reads a `text/event-stream` response body to its end, calling `onMessage` for every event.
 * Resolves when the server closes the stream; rejects when reading fails or `signal` aborts.
 */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onMessage: (message: SseMessage) => void,
  signal?: AbortSignal,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  const abort = () => {
    void reader.cancel().catch(() => undefined);
  };
  signal?.addEventListener("abort", abort, { once: true });
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) {
        for (const m of parser.feed(decoder.decode())) onMessage(m);
        return;
      }
      for (const m of parser.feed(decoder.decode(value, { stream: true }))) onMessage(m);
    }
  } finally {
    signal?.removeEventListener("abort", abort);
    signal?.throwIfAborted();
  }
}
