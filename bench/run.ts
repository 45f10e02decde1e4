/**
 * `npm run bench [-- <name filter>]`: runs every `*.bench.ts` scenario in this
 * folder (compiled to dist/bench) one after the other and prints its numbers.
 * Benchmarks are never part of `npm test`.
 */
import { cpus, totalmem, type as osType, release } from 'node:os';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult, BenchScenario } from './bench-scenario';

function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = Object.keys(rows[0]);
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

async function main(): Promise<void> {
  const filter = process.argv[2];
  const files = readdirSync(__dirname)
    .filter((file) => /\.bench\.js$/.test(file))
    .filter((file) => filter === undefined || file.includes(filter))
    .sort();
  const cpu = cpus();
  console.log('# uxc-relay benchmarks');
  console.log(
    `machine: ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${osType()} ${release()}, Node ${process.version}`,
  );
  if (files.length === 0) throw new Error(`no *.bench.js in ${__dirname} matching ${filter}`);
  for (const file of files) {
    const scenario = require(join(__dirname, file)) as BenchScenario;
    console.log(`\nrunning ${scenario.name} (${file}) …`);
    print(await scenario.run());
  }
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  });
