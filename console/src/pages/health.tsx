import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, ok, type Schemas } from '../api/client';
import { Problem, Section, time } from '../ui';

type Summary = Schemas['OpsSummaryDto'];
interface Sample {
  at: number;
  pending: number;
  oldest: number;
}

const HISTORY_KEY = 'uxc-relay-console.health';
const HOUR_MS = 3600_000;
const EVERY_MS = 10_000;

/** The last hour of samples, kept in this tab so the chart survives page changes. */
function loadHistory(): Sample[] {
  try {
    const samples = JSON.parse(sessionStorage.getItem(HISTORY_KEY) ?? '[]') as Sample[];
    return samples.filter((s) => s.at > Date.now() - HOUR_MS);
  } catch {
    return [];
  }
}

export function HealthPage() {
  const [summary, setSummary] = useState<Summary>();
  const [error, setError] = useState<unknown>();
  const [history, setHistory] = useState(loadHistory());

  useEffect(() => {
    let stopped = false;
    const read = async () => {
      try {
        const next = await ok(api.GET('/v1/ops/summary'));
        if (stopped) return;
        setSummary(next);
        setError(undefined);
        const samples = [
          ...loadHistory(),
          {
            at: Date.now(),
            pending: next.pendingDeliveries,
            oldest: next.oldestPendingAgeSeconds ?? 0,
          },
        ];
        sessionStorage.setItem(HISTORY_KEY, JSON.stringify(samples));
        setHistory(samples);
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
            <Tile
              label="Poll lag (mean)"
              value={
                summary.pollLagSeconds === null ? '—' : `${summary.pollLagSeconds.toFixed(2)} s`
              }
            />
            <Tile
              label="UXC error rate"
              value={
                summary.uxcErrorRate === null ? '—' : `${(summary.uxcErrorRate * 100).toFixed(1)}%`
              }
            />
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
        <HistoryChart samples={history} />
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

function HistoryChart({ samples }: { samples: Sample[] }) {
  if (samples.length < 2) return <p class="hint">The chart fills in as this page stays open.</p>;
  const W = 300;
  const H = 80;
  const now = Date.now();
  const max = Math.max(1, ...samples.map((s) => s.pending));
  const points = samples
    .map(
      (s) =>
        `${(((s.at - (now - HOUR_MS)) / HOUR_MS) * W).toFixed(1)},${(H - (s.pending / max) * H).toFixed(1)}`,
    )
    .join(' ');
  const last = samples[samples.length - 1];
  return (
    <figure class="chart">
      <svg
        viewBox={`-2 -2 ${W + 4} ${H + 4}`}
        role="img"
        aria-label={`Pending deliveries over the last hour, at most ${max}, now ${last.pending}`}
      >
        <rect x="0" y="0" width={W} height={H} class="chart-bg" />
        <polyline points={points} class="chart-queue" />
      </svg>
      <figcaption>Pending deliveries, last hour (up to {max})</figcaption>
    </figure>
  );
}
