import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BEGIN = '<!-- results:begin (written by `npm run bench -- --readme` from bench/results) -->';
const END = '<!-- results:end -->';

interface ResultFile {
  scenario: string;
  title: string;
  startedAt: string;
  quick: boolean;
  command: string;
  code: { commit: string; dirty: boolean } | null;
  machine: Record<string, unknown>;
  rows: Record<string, string | number>[];
  notes: string[];
}

function markdownTable(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value: unknown): string => String(value ?? '').replace(/\|/g, '\\|');
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${columns.map((c) => cell(row[c])).join(' | ')} |`),
  ].join('\n');
}

/**
 * The newest results file of each scenario, full runs before quick ones,
 * as the tables between the markers of bench/README.md.
 */
export function writeReadmeTable(resultsDir: string, readmePath: string, order: string[]): void {
  const latest = new Map<string, ResultFile>();
  for (const file of readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const result = JSON.parse(readFileSync(join(resultsDir, file), 'utf8')) as ResultFile;
    const before = latest.get(result.scenario);
    // a full run outranks any quick one; among equals the newer wins
    if (before === undefined || !result.quick || before.quick) latest.set(result.scenario, result);
  }
  const sections = order
    .filter((name) => latest.has(name))
    .map((name) => {
      const r = latest.get(name) as ResultFile;
      const code = r.code
        ? `${r.code.commit.slice(0, 7)}${r.code.dirty ? ' (with local changes)' : ''}`
        : 'not recorded';
      const machine = r.machine;
      return [
        `### ${r.title}`,
        '',
        `\`${r.command}\` — ${r.quick ? '**quick run**' : 'full run'} of ${r.startedAt}, code ${code}, ${machine.cores} × ${machine.cpuModel}, Node ${machine.node}, PostgreSQL ${machine.postgres ?? 'not recorded'}`,
        '',
        markdownTable(r.rows),
        ...(r.notes.length > 0 ? ['', ...r.notes] : []),
      ].join('\n');
    });
  const text = readFileSync(readmePath, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const body = `${BEGIN}\n\n${sections.join('\n\n')}\n\n${END}`;
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + body + text.slice(end + END.length)
      : `${text.trimEnd()}\n\n${body}\n`;
  writeFileSync(readmePath, next);
}
