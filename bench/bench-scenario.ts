/** What every `bench/*.bench.ts` exports: `bench/run.ts` finds and runs them. */
export interface BenchContext {
  /** --quick: about a tenth of the full size */
  quick: boolean;
  /** `full` in a full run, `quick` with --quick */
  size<T>(full: T, quick: T): T;
  log(line: string): void;
  /** records the PostgreSQL server version for the results file */
  serverVersion(version: string): void;
}

export interface BenchResult {
  title: string;
  /** How it was measured, in words: what runs where, what the numbers mean. */
  setup: string[];
  /** The relay's environment and the scenario's parameters. */
  config: Record<string, unknown>;
  /** Every figure, by name: what the results file keeps. */
  figures: Record<string, unknown>;
  /** One row per measured case; printed as a table. */
  rows: Record<string, string | number>[];
  notes?: string[];
}

export interface BenchScenario {
  /** short, unique: the results file name and the `npm run bench -- <filter>` match */
  name: string;
  /** one line for --list */
  summary: string;
  run(context: BenchContext): Promise<BenchResult>;
}
