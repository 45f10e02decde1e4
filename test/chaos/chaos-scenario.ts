/** What every `test/chaos/*.chaos.ts` exports: `test/chaos/run.ts` finds and runs them. */
export interface ChaosContext {
  /** --short: the small version CI runs */
  short: boolean;
  /** `full` in a full run, `short` with --short */
  size<T>(full: T, short: T): T;
  /** --soak <duration>: how long the soak runs, null when not asked for */
  soakMs: number | null;
  log(line: string): void;
}

/** One property the scenario promises, and whether this run kept it. */
export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

export interface ChaosResult {
  /** What was done, by name: tasks, kills, outage length, faults, requests, … */
  figures: Record<string, unknown>;
  checks: Check[];
}

export interface ChaosScenario {
  /** short, unique: the report's key and the `npm run test:chaos -- <filter>` match */
  name: string;
  summary: string;
  /** part of the --short run */
  short: boolean;
  /** runs only when --soak is given */
  soakOnly?: boolean;
  run(context: ChaosContext): Promise<ChaosResult>;
}

/** Collects the checks of one scenario as it finds them. */
export class Verdict {
  readonly checks: Check[] = [];

  constructor(private readonly log: (line: string) => void) {}

  check(name: string, passed: boolean, detail: string): void {
    this.checks.push({ name, passed, detail });
    this.log(`${passed ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  }
}
