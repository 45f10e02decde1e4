import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, ok, type Schemas } from '../api/client';
import { Problem, Section, time } from '../ui';

type Summary = Schemas['OpsSummaryDto'];
type History = Schemas['OpsHistoryDto'];
type Sample = Schemas['OpsHistorySampleDto'];

const HOUR_MS = 3600_000;
const EVERY_MS = 10_000;

/** The chart's points: the relay's samples of the last hour, then the summary just read. */
function points(history: History | undefined, summary: Summary | undefined): Sample[] {
  const samples = (history?.samples ?? []).filter((s) => Date.parse(s.at) > Date.now() - HOUR_MS);
  const last = samples[samples.length - 1];
  if (summary && (!last || Date.parse(summary.at) > Date.parse(last.at))) {
    samples.push({
      at: summary.at,
      pendingDeliveries: summary.pendingDeliveries,
      oldestPendingAgeSeconds: summary.oldestPendingAgeSeconds,
      heldDeliveries: summary.heldDeliveries,
      // the summary's UXC counts are since the process started: the chart's rates are per interval
      polls: last?.polls ?? 0,
      pollLagSeconds: summary.pollLagSeconds,
      uxcErrorRate: last?.uxcErrorRate ?? null,
      uxcCredentials: last?.uxcCredentials ?? [],
    });
  }
  return samples;
}

const seconds = (v: number | null) =>
  v === null ? '—' : `${v < 10 ? v.toFixed(2) : Math.round(v)} s`;
const percent = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

export function HealthPage() {
  const [summary, setSummary] = useState<Summary>();
  const [history, setHistory] = useState<History>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    let stopped = false;
    const read = async () => {
      try {
        const [next, hour] = await Promise.all([
          ok(api.GET('/v1/ops/summary')),
          ok(api.GET('/v1/ops/history')),
        ]);
        if (stopped) return;
        setSummary(next);
        setHistory(hour);
        setError(undefined);
      } catch (failure) {
        if (!stopped) setError(failure as ApiError);
      }
    };
    void read();
    const timer = setInterval(read, EVERY_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  const samples = points(history, summary);
  return (
    <>
      <h1>Health at a glance</h1>
      <Problem error={error} what="The health summary" />
      {summary && (
        <>
          <p class="hint">
            {summary.scope === 'relay' ? 'The whole relay' : 'Your deliveries'}, read{' '}
            {time(summary.at)}; refreshed every 10 s.
          </p>
          <div class="tiles">
            <Tile label="Pending deliveries" value={summary.pendingDeliveries} />
            <Tile
              label="Oldest pending"
              value={
                summary.oldestPendingAgeSeconds === null
                  ? 'none'
                  : `${Math.round(summary.oldestPendingAgeSeconds)} s`
              }
            />
            <Tile label="Held deliveries" value={summary.heldDeliveries} />
            <Tile label="Failed deliveries" value={summary.failedDeliveries} />
            <Tile label="Poll lag (recent mean)" value={seconds(summary.pollLagSeconds)} />
            <Tile label="UXC error rate" value={percent(summary.uxcErrorRate)} />
          </div>
          <Section title="UXC error rate per credential">
            {summary.uxcCredentials.length === 0 ? (
              <p>No UXC calls yet.</p>
            ) : (
              <div class="table-wrap">
                <table>
                  <caption class="sr-only">
                    UXC calls and errors per credential (access key)
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">credential (ak)</th>
                      <th scope="col">calls</th>
                      <th scope="col">errors</th>
                      <th scope="col">error rate</th>
                    </tr>
                  </thead>
                  <tbody>
                    {summary.uxcCredentials.map((c) => (
                      <tr key={c.credential}>
                        <th scope="row">
                          <code>{c.credential}</code>
                        </th>
                        <td>{c.requests}</td>
                        <td>{c.errors}</td>
                        <td>{(c.errorRate * 100).toFixed(1)}%</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Section>
          <Section title="UXC calls by outcome">
            <ul>
              {summary.uxcRequests.length === 0 && <li>No UXC calls yet.</li>}
              {summary.uxcRequests.map((r) => (
                <li key={r.outcome}>
                  {r.outcome}: {r.count}
                </li>
              ))}
            </ul>
          </Section>
        </>
      )}
      <Section title="Last hour">
        {history && (
          <p class="hint">
            Sampled every {history.sampleIntervalSeconds} s by the relay process that answered, kept
            for an hour in its memory (it starts empty when that process starts).
          </p>
        )}
        {samples.length < 2 ? (
          <p class="hint">The chart fills in as the relay takes its samples.</p>
        ) : (
          <>
            <div class="charts">
              <Chart
                title="Pending deliveries"
                samples={samples}
                value={(s) => s.pendingDeliveries}
                format={String}
              />
              <Chart
                title="Oldest pending (s)"
                samples={samples}
                value={(s) => s.oldestPendingAgeSeconds}
                format={seconds}
              />
              <Chart
                title="Held deliveries"
                samples={samples}
                value={(s) => s.heldDeliveries}
                format={String}
              />
              <Chart
                title="Poll lag (s)"
                samples={samples}
                value={(s) => s.pollLagSeconds}
                format={seconds}
              />
              <Chart
                title="UXC error rate"
                samples={samples}
                value={(s) => s.uxcErrorRate}
                format={percent}
                max={1}
              />
            </div>
            <SampleTable samples={samples} />
          </>
        )}
      </Section>
    </>
  );
}

function Tile({ label, value }: { label: string; value: string | number }) {
  return (
    <div class="tile">
      <div class="tile-value">{value}</div>
      <div class="tile-label">{label}</div>
    </div>
  );
}

/**
 * One number over the last hour; a sample without a value (no poll, no UXC
 * call in its interval) breaks the line instead of drawing a zero.
 */
function Chart({
  title,
  samples,
  value,
  format,
  max: fixedMax,
}: {
  title: string;
  samples: Sample[];
  value: (s: Sample) => number | null;
  format: (v: number | null) => string;
  max?: number;
}) {
  const W = 300;
  const H = 80;
  const now = Date.now();
  // a relay that started minutes ago has minutes of samples: they fill the width instead of its last sliver
  const from = Math.max(now - HOUR_MS, Date.parse(samples[0].at));
  const span = Math.max(1, now - from);
  const values = samples.map(value);
  const known = values.filter((v): v is number => v !== null);
  const max = fixedMax ?? Math.max(1, ...known);
  const runs: string[][] = [[]];
  samples.forEach((s, i) => {
    const v = values[i];
    if (v === null) {
      if (runs[runs.length - 1].length > 0) runs.push([]);
      return;
    }
    const x = ((Date.parse(s.at) - from) / span) * W;
    runs[runs.length - 1].push(`${x.toFixed(1)},${(H - (v / max) * H).toFixed(1)}`);
  });
  const latest = values[values.length - 1] ?? null;
  const peak = known.length > 0 ? Math.max(...known) : null;
  const since = `since ${time(new Date(from)).slice(11)} UTC`;
  const label = `${title} over the last hour (${since}): ${known.length === 0 ? 'no values' : `highest ${format(peak)}, now ${format(latest)}`}`;
  return (
    <figure class="chart">
      <svg viewBox={`-2 -2 ${W + 4} ${H + 4}`} role="img" aria-label={label}>
        <rect x="0" y="0" width={W} height={H} class="chart-bg" />
        {runs
          .filter((run) => run.length > 0)
          .map((run, i) =>
            run.length === 1 ? (
              <circle
                key={i}
                cx={run[0].split(',')[0]}
                cy={run[0].split(',')[1]}
                r="2"
                class="chart-dot"
              />
            ) : (
              <polyline key={i} points={run.join(' ')} class="chart-queue" />
            ),
          )}
      </svg>
      <figcaption>
        {title}: now {format(latest)} (scale up to {format(max)}, {since})
      </figcaption>
    </figure>
  );
}

/** The charts' text alternative: every sample, newest first. */
function SampleTable({ samples }: { samples: Sample[] }) {
  return (
    <details class="samples">
      <summary>The last hour as a table ({samples.length} samples)</summary>
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Health samples of the last hour, newest first</caption>
          <thead>
            <tr>
              <th scope="col">at</th>
              <th scope="col">pending</th>
              <th scope="col">oldest pending</th>
              <th scope="col">held</th>
              <th scope="col">polls</th>
              <th scope="col">poll lag</th>
              <th scope="col">UXC error rate</th>
              <th scope="col">per credential</th>
            </tr>
          </thead>
          <tbody>
            {[...samples].reverse().map((s) => (
              <tr key={s.at}>
                <th scope="row">{time(s.at)}</th>
                <td>{s.pendingDeliveries}</td>
                <td>{seconds(s.oldestPendingAgeSeconds)}</td>
                <td>{s.heldDeliveries}</td>
                <td>{s.polls}</td>
                <td>{seconds(s.pollLagSeconds)}</td>
                <td>{percent(s.uxcErrorRate)}</td>
                <td>
                  {s.uxcCredentials
                    .map((c) => `${c.credential} ${percent(c.errorRate)} of ${c.requests}`)
                    .join(', ') || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
