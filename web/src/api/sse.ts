// Server-sent events read from a fetch body: EventSource cannot send the Authorization header the console's
// in-memory access token needs, so the operation's stream is read as text and parsed here (the WHATWG rules:
// lines end in \n, \r\n or \r; a blank line dispatches; "field: value" with one optional space; ":" a comment).

export interface SseEvent {
  /** "message" when the event named none. */
  event: string;
  data: string;
  /** The last id the stream set, this event's or an earlier one's ("" for none). */
  id: string;
}

export class SseParser {
  private buffer = "";
  private eventType = "";
  private data: string[] = [];
  private sawData = false;
  /** The stream's last event id (sent back as Last-Event-ID on a reconnection). */
  lastEventId = "";
  /** The reconnection delay the stream asked for (retry:), in milliseconds, when it gave one. */
  retry: number | null = null;

  /** Feed the next piece of text; returns the events it completed, in order. */
  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone \r at the very end may be the first half of \r\n: wait for the next piece.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.eventType = value;
    else if (field === "data") {
      this.data.push(value);
      this.sawData = true;
    } else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    else if (field === "retry" && /^[0-9]+$/.test(value)) this.retry = Number(value);
    return null;
  }

  private dispatch(): SseEvent | null {
    const event = this.sawData
      ? { event: this.eventType || "message", data: this.data.join("\n"), id: this.lastEventId }
      : null;
    this.eventType = "";
    this.data = [];
    this.sawData = false;
    return event;
  }
}
