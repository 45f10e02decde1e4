/**
 * `npm run test:chaos [-- --short] [-- --soak 30m] [-- <name filter>]`: the
 * reliability suite. Runs every `*.chaos.ts` scenario in this folder
 * (compiled to dist/test/chaos) one after the other against real processes,
 * prints what each did and found, ends with `N passed, M failed` and writes
 * the report to test/chaos/results/<timestamp>.json. Exits 1 when a check failed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ChaosContext, ChaosResult, ChaosScenario, Check } from './chaos-scenario';

const ROOT = join(__dirname, '..', '..', '..');
const RESULTS_DIR = join(ROOT, 'test', 'chaos', 'results');

function scenarios(): ChaosScenario[] {
  return readdirSync(__dirname)
    .filter((file) => /\.chaos\.js$/.test(file))
    .sort()
    .map((file) => require(join(__dirname, file)) as ChaosScenario);
}

/** `30m`, `90s`, `2h` to milliseconds. */
function durationMs(text: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text ?? '');
  if (match === null) throw new Error(`--soak needs a duration such as 30m, not ${text}`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms'];
}

function commit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

async function formatted(text: string, file: string): Promise<string> {
  // reports are committed, and `npm run check` runs prettier over them
  try {
    const prettier = await import('prettier');
    return await prettier.format(text, {
      ...((await prettier.resolveConfig(file)) ?? {}),
      filepath: file,
    });
  } catch {
    return text;
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const short = args.includes('--short');
  const soakAt = args.indexOf('--soak');
  const soakMs = soakAt >= 0 ? durationMs(args[soakAt + 1]) : null;
  const filters = args.filter(
    (arg, i) => !arg.startsWith('--') && (soakAt < 0 || i !== soakAt + 1),
  );
  const chosen = scenarios().filter(
    (scenario) =>
      // a name given runs that scenario, at the short size with --short
      (short && filters.length === 0 ? scenario.short : true) &&
      (!scenario.soakOnly || soakMs !== null) &&
      (filters.length === 0 || filters.some((f) => scenario.name.includes(f))),
  );
  const began = Date.now();
  console.log(
    `# uxc-relay reliability suite${short ? ' (--short)' : ''}: ${chosen.map((s) => s.name).join(', ')}`,
  );
  const report: Record<string, unknown>[] = [];
  const stamp = new Date(began).toISOString().replace(/[:.]/g, '-');
  const file = join(RESULTS_DIR, `${stamp}.json`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const writeReport = async (): Promise<{ passed: number; failed: number; seconds: number }> => {
    const failed = all.filter((check) => !check.passed).length;
    const passed = all.length - failed;
    const seconds = Math.round((Date.now() - began) / 1000);
    const record = {
      startedAt: new Date(began).toISOString(),
      seconds,
      command: `npm run test:chaos${args.length ? ` -- ${args.join(' ')}` : ''}`,
      commit: commit(),
      machine: {
        cores: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      passed,
      failed,
      scenarios: report,
    };
    writeFileSync(file, await formatted(JSON.stringify(record, null, 2), file));
    return { passed, failed, seconds };
  };

  const all: Check[] = [];
  for (const scenario of chosen) {
    console.log(`\n## ${scenario.name}: ${scenario.summary}`);
    const started = Date.now();
    const context: ChaosContext = {
      short,
      size: (full, small) => (short ? small : full),
      soakMs,
      log: (line) =>
        console.log(`  [${scenario.name} ${((Date.now() - began) / 1000).toFixed(0)}s] ${line}`),
    };
    let result: ChaosResult;
    try {
      result = await scenario.run(context);
    } catch (error) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      context.log(`FAIL the scenario stopped: ${detail}`);
      result = { figures: {}, checks: [{ name: 'ran to the end', passed: false, detail }] };
    }
    all.push(...result.checks);
    const seconds = Math.round((Date.now() - started) / 1000);
    const failed = result.checks.filter((check) => !check.passed).length;
    console.log(`  -> ${failed === 0 ? 'passed' : `${failed} check(s) failed`} in ${seconds} s`);
    report.push({ scenario: scenario.name, summary: scenario.summary, seconds, ...result });
    // written after every scenario, so a run cut short still leaves what it found
    await writeReport();
  }
  const { passed, failed, seconds } = await writeReport();
  console.log(`\nreport: test/chaos/results/${stamp}.json (${seconds} s in all)`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && chosen.length > 0 ? 0 : 1;
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    console.log('0 passed, 1 failed');
    process.exit(1);
  });
