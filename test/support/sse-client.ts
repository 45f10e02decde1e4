import { waitFor } from './wait';

export interface SseEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/**
 * A server-sent events client over fetch, as a browser's `EventSource` reads
 * a stream: events as they arrive, comment lines apart, and whether the
 * server ended the stream.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  private readonly abort = new AbortController();

  private constructor(
    readonly status: number,
    readonly contentType: string | null,
    readonly body: string,
  ) {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const answer = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: abort.signal,
    });
    if (answer.status !== 200) {
      return new SseClient(answer.status, answer.headers.get('content-type'), await answer.text());
    }
    const client = new SseClient(200, answer.headers.get('content-type'), '');
    client.abort.signal.addEventListener('abort', () => abort.abort());
    void client.read(answer.body as ReadableStream<Uint8Array>);
    return client;
  }

  close(): void {
    this.abort.abort();
  }

  waitForEvents(count: number, timeoutMs = 10_000): Promise<SseEvent[]> {
    return waitFor(
      `${count} server-sent events (have ${this.events.length})`,
      () => this.events.length >= count && this.events,
      timeoutMs,
    );
  }

  waitForEnd(timeoutMs = 10_000): Promise<boolean> {
    return waitFor('the end of the stream', () => this.ended, timeoutMs);
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.take(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      this.ended = true;
    } catch {
      // closed by this side
    }
  }

  private take(block: string): void {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const at = line.indexOf(': ');
      fields[line.slice(0, at)] = line.slice(at + 2);
    }
    if (fields.data === undefined) return;
    this.events.push({
      id: fields.id,
      event: fields.event,
      data: JSON.parse(fields.data) as Record<string, unknown>,
    });
  }
}
