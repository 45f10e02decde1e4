/** Samples kept for the estimate: enough to span a burst of slow answers. */
const SAMPLES = 16;

/**
 * Where the database's clock stands against this process's, estimated the
 * NTP way: a sample is taken between sending a statement and reading its
 * answer, so the database read its clock somewhere in that round trip, and
 * the sample with the shortest round trip of the last few is the one trusted.
 *
 * Mapping a time the database handed out by the answer's arrival instead
 * shifts it by however long that answer took, which differs between
 * processes under load: three relays on two busy cores sent two calls the
 * database had spaced 205 ms apart 34 ms apart.
 */
export class DatabaseClock {
  private readonly samples: { offsetMs: number; roundTripMs: number }[] = [];

  /**
   * One round trip: sent at `sentAt` and answered at `answeredAt` on this
   * process's clock, with the database's clock reading `databaseAt` in between.
   */
  observe(sentAt: number, databaseAt: number, answeredAt: number): void {
    this.samples.push({
      offsetMs: databaseAt - (sentAt + answeredAt) / 2,
      roundTripMs: answeredAt - sentAt,
    });
    if (this.samples.length > SAMPLES) this.samples.shift();
  }

  /** A time on the database's clock, on this process's clock. */
  toLocal(databaseAt: number): number {
    let best = this.samples[0];
    if (best === undefined) throw new Error('DatabaseClock.toLocal before any observe');
    for (const sample of this.samples) if (sample.roundTripMs < best.roundTripMs) best = sample;
    return databaseAt - best.offsetMs;
  }
}
