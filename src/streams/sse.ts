import type { Logger } from '@nestjs/common';
import type { Response } from 'express';

/** One server-sent event: `data` is JSON on a single line, so no field ever spans lines. */
export function formatSseEvent(event: { id: string; type: string; data: unknown }): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

export const SSE_HEARTBEAT = ': keep-alive\n\n';

/**
 * One open `text/event-stream` answer: the headers at once, then events and
 * heartbeat comments until `end()` or the client goes away. `onClose` runs
 * once either way, to release whatever the stream listens to.
 */
export class SseConnection {
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly res: Response,
    heartbeatMs: number,
    private readonly onClose: () => void,
  ) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    // nginx and the like buffer answers unless told not to
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.on('close', () => this.release());
    this.heartbeat = setInterval(() => this.write(SSE_HEARTBEAT), heartbeatMs);
  }

  get open(): boolean {
    return !this.closed;
  }

  send(id: string, type: string, data: unknown): void {
    this.write(formatSseEvent({ id, type, data }));
  }

  end(): void {
    if (this.closed) return;
    this.release();
    this.res.end();
  }

  private write(text: string): void {
    if (!this.closed) this.res.write(text);
  }

  private release(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.onClose();
  }
}

/**
 * The work of one stream, one step at a time and in order, while it is open.
 * A failed step (a read of history) ends the stream: the client resumes from
 * its last event id, which costs less than guessing what was sent.
 */
export class StreamSteps {
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly sse: SseConnection,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  run(step: () => Promise<void>): void {
    this.work = this.work
      .then(() => (this.sse.open ? step() : undefined))
      .catch((error: unknown) => {
        this.logger.warn(`${this.what} ended on an error: ${(error as Error).message}`);
        this.sse.end();
      });
  }
}
