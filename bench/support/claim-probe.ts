/**
 * The one place the bench calls into the relay's code instead of its
 * process: the dispatcher's claim, run on its own against a seeded backlog,
 * with every SQL statement it sends captured so that the same statement can
 * be EXPLAINed with the same parameters. When the claim's interface changes,
 * only this file follows it.
 */
import { Client } from 'pg';
import { DeliveryQueue } from '../../src/dispatcher/delivery-queue';
import { PrismaService } from '../../src/database/prisma.service';
import type { DatabaseConnection } from '../../src/database/database-connection';

export interface CapturedStatement {
  text: string;
  values: unknown[];
}

interface QueryConfig {
  text?: string;
  values?: unknown[];
}

let capturing: CapturedStatement[] | null = null;
const originalQuery = Client.prototype.query;

/** Records what every pg client in this process sends while `capturing` is set. */
function installCapture(): void {
  if ((Client.prototype.query as { captured?: boolean }).captured) return;
  const patched = function (this: Client, ...args: unknown[]): unknown {
    const first = args[0] as string | QueryConfig;
    if (capturing !== null) {
      if (typeof first === 'string')
        capturing.push({ text: first, values: (args[1] as unknown[]) ?? [] });
      else if (first?.text) capturing.push({ text: first.text, values: first.values ?? [] });
    }
    return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
  };
  (patched as { captured?: boolean }).captured = true;
  Client.prototype.query = patched as typeof Client.prototype.query;
}

export interface ClaimCall {
  ms: number;
  claimed: number;
  statements: CapturedStatement[];
}

export class ClaimProbe {
  private constructor(
    private readonly prisma: PrismaService,
    private readonly queue: DeliveryQueue,
  ) {}

  static async open(url: string): Promise<ClaimProbe> {
    installCapture();
    const prisma = new PrismaService({ url } as DatabaseConnection);
    await prisma.onModuleInit();
    return new ClaimProbe(prisma, new DeliveryQueue(prisma));
  }

  /**
   * One claim as the dispatcher makes it (its default caps, nothing in
   * flight), then its leases given back so the backlog stays as it was.
   */
  async claim(limit: number, perHost: number): Promise<ClaimCall> {
    const owner = `bench-claim-${process.pid}`;
    capturing = [];
    const started = performance.now();
    const claimed = await this.queue.claim({
      owner,
      limit,
      leaseMs: 20_000,
      perHost,
      hosts: [],
      counts: [],
      saturated: [],
    });
    const ms = performance.now() - started;
    const statements = capturing;
    capturing = null;
    await this.queue.release(
      owner,
      claimed.map((d) => d.id),
    );
    return { ms, claimed: claimed.length, statements };
  }

  async close(): Promise<void> {
    await this.prisma.$disconnect();
  }
}
