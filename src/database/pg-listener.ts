import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { KEEPALIVE_INITIAL_DELAY_MS, POOL_CONNECT_TIMEOUT_MS } from './database-pool';

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;

/**
 * LISTENs on one channel, on a connection of its own, and calls `onPayload`
 * with every notification's payload, in whichever process sent it. Reconnects
 * on its own after a database outage and then calls `onReconnect`, since what
 * was sent meanwhile is gone; `connected` tells the owner when it must look
 * for work by itself.
 */
export class PgListener {
  private readonly logger = new Logger(PgListener.name);
  private client: Client | null = null;
  private stopped = false;
  private retryMs = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  connected = false;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly onPayload: (payload: string) => void,
    private readonly onReconnect: () => void,
  ) {}

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    this.connected = false;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    // a connect that hangs, or a server gone without a FIN, would leave this
    // listener waiting forever, and its owner waiting for notifications
    const client = new Client({
      connectionString: this.url,
      connectionTimeoutMillis: POOL_CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    });
    client.on('notification', (message) => {
      if (message.payload) this.onPayload(message.payload);
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (error) {
      this.logger.debug(`LISTEN ${this.channel} failed: ${(error as Error).message}`);
      this.lost(client);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.connected = true;
    this.retryMs = RECONNECT_MIN_MS;
    // notifications sent while the connection was down are gone: look once
    this.onReconnect();
  }

  private lost(client: Client): void {
    if (this.client !== null && this.client !== client) return;
    this.client = null;
    this.connected = false;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.stopped || this.timer?.hasRef()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(RECONNECT_MAX_MS, this.retryMs * 2);
  }
}
