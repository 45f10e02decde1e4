/**
 * Runs single registrations together when they arrive together. A request
 * that finds a free slot runs at once, alone; those that arrive while every
 * slot is busy wait and then go as one batch, so under load a transaction's
 * fixed cost (and each statement's round trip) is shared instead of paid per
 * request, and no request ever waits on a timer.
 */
export class RegistrationQueue<Item, Result> {
  private waiting: { item: Item; resolve: (r: Result) => void; reject: (e: unknown) => void }[] =
    [];
  private running = 0;

  constructor(
    private readonly run: (items: Item[]) => Promise<Result[]>,
    private readonly slots: number,
    private readonly maxBatch: number,
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.slots && this.waiting.length > 0) {
      const jobs = this.waiting.splice(0, this.maxBatch);
      this.running++;
      void this.runBatch(jobs.map((job) => job.item))
        .then((outcomes) =>
          jobs.forEach((job, i) => {
            const outcome = outcomes[i];
            if (outcome.status === 'fulfilled') job.resolve(outcome.value);
            else job.reject(outcome.reason);
          }),
        )
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  /** A batch that fails is run again one by one, so one request's failure stays its own. */
  private async runBatch(items: Item[]): Promise<PromiseSettledResult<Result>[]> {
    try {
      const results = await this.run(items);
      return results.map((value) => ({ status: 'fulfilled', value }));
    } catch (error) {
      if (items.length === 1) return [{ status: 'rejected', reason: error }];
      const outcomes: PromiseSettledResult<Result>[] = [];
      for (const item of items) {
        try {
          outcomes.push({ status: 'fulfilled', value: (await this.run([item]))[0] });
        } catch (reason) {
          outcomes.push({ status: 'rejected', reason });
        }
      }
      return outcomes;
    }
  }
}
