/**
 * `npm run bench [-- --quick] [-- --list] [-- <name filter>]`: runs every
 * `*.bench.ts` scenario in this folder (compiled to dist/bench) one after the
 * other, prints its numbers and writes them to
 * bench/results/<scenario>-<timestamp>.json; a full run of every scenario
 * then rewrites the tables of bench/README.md (`-- --readme` does only that,
 * from the newest results). Benchmarks are never part of `npm test`.
 */
import { cpus, release, totalmem, type as osType } from 'node:os';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, BenchResult, BenchScenario } from './bench-scenario';
import { stopBenchServer } from './bench-database';
import { writeReadmeTable } from './support/readme-table';
import { relayEnvOverride } from './support/world';

const RESULTS_DIR = join(__dirname, '..', '..', 'bench', 'results');
const README = join(__dirname, '..', '..', 'bench', 'README.md');

function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? '')));
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((line) => line[i].length)),
  );
  const line = (values: string[]): string =>
    `| ${values.map((value, i) => value.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(columns),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(line),
  ].join('\n');
}

function print(result: BenchResult): void {
  console.log(`\n## ${result.title}\n`);
  for (const line of result.setup) console.log(`- ${line}`);
  console.log(`\n${table(result.rows)}\n`);
  for (const note of result.notes ?? []) console.log(note);
}

function scenarios(): { file: string; scenario: BenchScenario }[] {
  return readdirSync(__dirname)
    .filter((file) => /\.bench\.js$/.test(file))
    .sort()
    .map((file) => ({ file, scenario: require(join(__dirname, file)) as BenchScenario }));
}

function machine(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
  };
}

/** The commit measured (and whether the work tree had changes), so a result names its code. */
function code(): { commit: string; dirty: boolean } | null {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: join(__dirname, '..', '..'), encoding: 'utf8' }).trim();
    return {
      commit: git('rev-parse', 'HEAD'),
      dirty:
        git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results').length >
        0,
    };
  } catch {
    return null;
  }
}

async function formatted(text: string, file: string): Promise<string> {
  // the results and the README are committed, and `npm run check` runs prettier over them
  try {
    const prettier = (await import('prettier')) as typeof import('prettier');
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...options, filepath: file });
  } catch {
    return text;
  }
}

async function rewriteReadme(order: string[]): Promise<void> {
  writeReadmeTable(RESULTS_DIR, README, order);
  writeFileSync(README, await formatted(readFileSync(README, 'utf8'), README));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const filters = args.filter((arg) => !arg.startsWith('--'));
  const all = scenarios();
  if (args.includes('--list')) {
    for (const { scenario } of all) console.log(`${scenario.name.padEnd(16)} ${scenario.summary}`);
    return;
  }
  const order = all.map(({ scenario }) => scenario.name);
  if (args.includes('--readme')) {
    await rewriteReadme(order);
    console.log('bench/README.md: tables rewritten from the newest results of each scenario');
    return;
  }
  const chosen = all.filter(
    ({ scenario, file }) =>
      filters.length === 0 || filters.some((f) => scenario.name.includes(f) || file.includes(f)),
  );
  if (chosen.length === 0)
    throw new Error(`no scenario matches ${filters.join(' ')}: see npm run bench -- --list`);
  const host = machine();
  console.log(
    '# uxc-relay benchmarks' + (quick ? ' (--quick: about a tenth of the full size)' : ''),
  );
  console.log(
    `machine: ${host.cpuModel} × ${host.cores}, ${host.memoryGiB} GiB RAM, ${host.os}, Node ${host.node}`,
  );
  mkdirSync(RESULTS_DIR, { recursive: true });
  const began = Date.now();
  for (const { scenario } of chosen) {
    let postgres = 'unknown';
    const context: BenchContext = {
      quick,
      size: (full, small) => (quick ? small : full),
      log: (line) =>
        console.log(`  [${scenario.name} ${((Date.now() - began) / 1000).toFixed(0)}s] ${line}`),
      serverVersion: (version) => (postgres = version),
    };
    console.log(`\nrunning ${scenario.name} …`);
    const started = new Date();
    const result = await scenario.run(context);
    const seconds = (Date.now() - started.getTime()) / 1000;
    print(result);
    const stamp = started.toISOString().replace(/[:.]/g, '-');
    const file = join(RESULTS_DIR, `${scenario.name}-${stamp}.json`);
    const record = {
      scenario: scenario.name,
      title: result.title,
      startedAt: started.toISOString(),
      seconds,
      quick,
      command: `npm run bench --${quick ? ' --quick' : ''} ${scenario.name}`,
      code: code(),
      // a profiled relay is slower; an embedded server is not the machine's own
      relayCpuProfile: Boolean(process.env.BENCH_CPU_PROF),
      relayEnvOverride: relayEnvOverride(),
      database: process.env.DATABASE_URL ? 'the server of DATABASE_URL' : 'embedded PostgreSQL',
      machine: { ...host, postgres },
      setup: result.setup,
      config: result.config,
      figures: result.figures,
      rows: result.rows,
      notes: result.notes ?? [],
    };
    writeFileSync(file, await formatted(JSON.stringify(record, null, 2), file));
    console.log(
      `(${seconds.toFixed(0)} s; written to bench/results/${scenario.name}-${stamp}.json)`,
    );
  }
  console.log(`\nall done in ${((Date.now() - began) / 1000).toFixed(0)} s`);
  if (!quick && filters.length === 0) {
    // a full run of everything is what the README's tables show
    await rewriteReadme(order);
    console.log('bench/README.md: tables rewritten from this run');
  }
}

main()
  .then(async () => {
    await stopBenchServer();
    process.exit(0);
  })
  .catch(async (error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    await stopBenchServer().catch(() => undefined);
    process.exit(1);
  });
