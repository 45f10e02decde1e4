import type { Client } from 'pg';

export interface SampledStatement {
  /** the statement's first 200 characters, whitespace folded */
  query: string;
  /** how many samples found a backend running it */
  samples: number;
  /** samples ÷ all samples: the average number of backends running it */
  busyBackends: number;
}

/**
 * Where the database's time goes when pg_stat_statements cannot be loaded:
 * samples pg_stat_activity of this database every `everyMs` and counts
 * which statements the active backends are running.
 */
export class DbSampler {
  private readonly counts = new Map<string, number>();
  private ticks = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly client: Client,
    private readonly everyMs = 50,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.everyMs);
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const { rows } = await this.client.query<{ query: string }>(
        `SELECT query FROM pg_stat_activity
         WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`,
      );
      this.ticks++;
      for (const row of rows) {
        const query = row.query.replace(/\s+/g, ' ').trim().slice(0, 200);
        this.counts.set(query, (this.counts.get(query) ?? 0) + 1);
      }
    } catch {
      // a sample lost is a sample lost
    } finally {
      this.busy = false;
    }
  }

  /** Stops sampling and closes the connection it was given. */
  async stop(limit = 8): Promise<{ samples: number; top: SampledStatement[] }> {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await new Promise((done) => setTimeout(done, 10));
    await this.client.end().catch(() => undefined);
    const top = [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([query, samples]) => ({
        query,
        samples,
        busyBackends: Math.round((samples / Math.max(1, this.ticks)) * 100) / 100,
      }));
    return { samples: this.ticks, top };
  }
}
