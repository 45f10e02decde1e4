/** What every `bench/*.bench.ts` exports: `bench/run.ts` finds and runs them. */
export interface BenchResult {
  title: string;
  /** How it was measured: configuration, window, what the numbers mean. */
  setup: string[];
  /** One row per measured case; printed as a table. */
  rows: Record<string, string | number>[];
  notes?: string[];
}

export interface BenchScenario {
  name: string;
  run(): Promise<BenchResult>;
}
