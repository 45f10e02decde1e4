import { useEffect, useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../api/client';
import { linkProps, navigate, useQueryParam } from '../router';
import { Field, Problem, Section, StateBadge, time, useLoad } from '../ui';

type Task = Schemas['TaskResponseDto'];
type EstimateBasis = Schemas['EstimateBasisDto'];
type TaskEvent = Schemas['TaskEventResponseDto'];

const STATES = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'unknown'] as const;
const TRACKINGS = ['active', 'completed', 'expired', 'error'] as const;
const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);
const STREAM_EVENTS = [
  ...STATES.map((state) => `task.${state}`),
  'task.progress',
  'task.expired',
  'task.error',
];

export function taskPath(sid: string): string {
  return `/tasks/${encodeURIComponent(sid)}`;
}

export function TasksPage() {
  const [state, setState] = useQueryParam('state');
  const [tracking, setTracking] = useQueryParam('tracking');
  const [search, setSearch] = useState('');
  const [track, setTrack] = useState('');
  const [trackError, setTrackError] = useState<unknown>();
  const list = useLoad(
    () =>
      ok(
        api.GET('/v1/tasks', {
          params: {
            query: {
              limit: 100,
              ...(state ? { state: state as Task['state'] & string } : {}),
              ...(tracking ? { tracking: tracking as Task['tracking'] } : {}),
            } as never,
          },
        }),
      ),
    [state, tracking],
  );

  async function startTracking(event: Event) {
    event.preventDefault();
    setTrackError(undefined);
    try {
      await ok(api.POST('/v1/tasks', { body: { sid: track.trim() } }));
      navigate(taskPath(track.trim()));
    } catch (failure) {
      setTrackError(failure);
    }
  }

  return (
    <>
      <h1>Tasks</h1>
      <div class="cards">
        <form
          class="card"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            if (search.trim()) navigate(taskPath(search.trim()));
          }}
        >
          <Field label="Find a task by sid">
            <input
              value={search}
              onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
            />
          </Field>
          <button type="submit">Open</button>
        </form>
        <form class="card" onSubmit={startTracking}>
          <Field label="Track a sid (its events go to your endpoints)">
            <input
              required
              value={track}
              onInput={(e) => setTrack((e.target as HTMLInputElement).value)}
            />
          </Field>
          <button type="submit">Track</button>
          <Problem error={trackError} what="Tracking a sid" />
        </form>
      </div>
      <Section title="Task list">
        <div class="filters">
          <Field label="State">
            <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
              <option value="">any</option>
              {STATES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </Field>
          <Field label="Tracking">
            <select
              value={tracking}
              onChange={(e) => setTracking((e.target as HTMLSelectElement).value)}
            >
              <option value="">any</option>
              {TRACKINGS.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </Field>
          <button type="button" class="secondary" onClick={list.reload}>
            Refresh
          </button>
        </div>
        <Problem error={list.error} what="The task list" />
        {list.data && list.data.items.length === 0 && <p>No tasks match.</p>}
        {list.data && list.data.items.length > 0 && (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Tasks</caption>
              <thead>
                <tr>
                  <th scope="col">sid</th>
                  <th scope="col">state</th>
                  <th scope="col">tracking</th>
                  <th scope="col">progress</th>
                  <th scope="col">updated</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((task) => (
                  <tr key={task.sid}>
                    <td>
                      <a {...linkProps(taskPath(task.sid))}>{task.sid}</a>
                    </td>
                    <td>
                      <StateBadge state={task.state} />
                    </td>
                    <td>{task.tracking}</td>
                    <td>{percent(task.progress)}</td>
                    <td>{time(task.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}

function basisText(basis: EstimateBasis | null | undefined): string {
  if (!basis) return 'too little history yet';
  const parts = [`${basis.tasks} queued tasks over ${Math.round(basis.windowSeconds / 60)} min`];
  if (basis.drainPerMinute !== null) parts.push(`${basis.drainPerMinute.toFixed(1)} start/min`);
  if (basis.runSeconds !== null) {
    parts.push(`runs take ${Math.round(basis.runSeconds)} s (${basis.finishedTasks} finished)`);
  }
  return parts.join('; ');
}

function percent(progress: number | null | undefined): string {
  if (progress === null || progress === undefined) return '—';
  return `${Math.round((progress > 1 ? progress / 100 : progress) * 100)}%`;
}

type Live = 'connecting' | 'stream' | 'polling' | 'ended';

/**
 * Keeps the task and its events current: the SSE stream (through a stream
 * token, as EventSource cannot send a header) tells when something changed;
 * a server without streams is polled instead.
 */
function useLiveTask(sid: string) {
  const task = useLoad(() => ok(api.GET('/v1/tasks/{sid}', { params: { path: { sid } } })), [sid]);
  const events = useLoad(
    () =>
      ok(
        api.GET('/v1/tasks/{sid}/events', {
          params: { path: { sid }, query: { limit: 200 } },
        }),
      ),
    [sid],
  );
  const [live, setLive] = useState<Live>('connecting');
  const terminal = TERMINAL.has((task.data as Task | undefined)?.state ?? '');

  useEffect(() => {
    if (terminal) {
      setLive('ended');
      return;
    }
    let source: EventSource | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    const refresh = () => {
      task.reload();
      events.reload();
    };
    ok(api.POST('/v1/stream-tokens', { body: { sid, ttlSeconds: 3600 } })).then(
      ({ token }) => {
        if (stopped) return;
        source = new EventSource(
          `/v1/tasks/${encodeURIComponent(sid)}/stream?token=${encodeURIComponent(token)}`,
        );
        source.onopen = () => setLive('stream');
        for (const type of STREAM_EVENTS) {
          source.addEventListener(type, () => {
            refresh();
            if (TERMINAL.has(type.slice('task.'.length)) || type === 'task.expired') {
              source?.close();
              setLive('ended');
            }
          });
        }
      },
      () => {
        if (stopped) return;
        // no streams on this server (or no right to one): poll instead
        setLive('polling');
        timer = setInterval(refresh, 2000);
      },
    );
    return () => {
      stopped = true;
      source?.close();
      if (timer) clearInterval(timer);
    };
    // the stream is per sid; a terminal state ends it
  }, [sid, terminal]);

  return { task, events, live };
}

export function TaskPage({ sid }: { sid: string }) {
  const { task, events, live } = useLiveTask(sid);
  const current = task.data as Task | undefined;
  const history = events.data?.items ?? [];
  return (
    <>
      <p>
        <a {...linkProps('/tasks')}>← All tasks</a>
      </p>
      <h1>
        Task <code class="sid">{sid}</code>
      </h1>
      <p class="live" role="status" aria-live="polite">
        {live === 'stream' && 'Live: following the event stream.'}
        {live === 'polling' && 'Live: streams are not available on this server; polling every 2 s.'}
        {live === 'connecting' && 'Connecting…'}
        {live === 'ended' && 'The task has finished; no further updates.'}
      </p>
      <Problem error={task.error} what="The task" />
      {current && (
        <>
          {current.outputResult && current.outputResult.length > 0 && (
            <Section title="Output">
              <ul class="outputs">
                {current.outputResult.map((url) => (
                  <li key={url}>
                    {/^https?:/.test(url) ? (
                      <a href={url} rel="noreferrer noopener" target="_blank">
                        {url}
                      </a>
                    ) : (
                      <code>{url}</code>
                    )}
                  </li>
                ))}
              </ul>
            </Section>
          )}
          <div class="cards">
            <dl class="card facts" aria-label="Task now">
              <dt>State</dt>
              <dd data-testid="task-state">
                <StateBadge state={current.state} />
              </dd>
              <dt>Tracking</dt>
              <dd>{current.tracking}</dd>
              <dt>Progress</dt>
              <dd>{percent(current.progress)}</dd>
              <dt>Queue</dt>
              <dd>
                {current.queueNum ?? '—'} / {current.queueTotal ?? '—'}
              </dd>
              <dt>Sequence</dt>
              <dd>{current.sequence}</dd>
              <dt>Last polled</dt>
              <dd>{time(current.lastPolledAt)}</dd>
              {current.lastError && (
                <>
                  <dt>Last error</dt>
                  <dd>
                    {current.lastError.errNo}: {current.lastError.errMsg}
                  </dd>
                </>
              )}
            </dl>
            <div class="card">
              <h2 id="eta">Estimate</h2>
              {current.estimatedFinishAt !== undefined ? (
                <dl class="facts" aria-labelledby="eta">
                  <dt>Starts</dt>
                  <dd>{time(current.estimatedStartAt)}</dd>
                  <dt>Finishes</dt>
                  <dd>{time(current.estimatedFinishAt)}</dd>
                  <dt>Basis</dt>
                  <dd>{basisText(current.estimateBasis)}</dd>
                </dl>
              ) : (
                <p class="notice">Estimates are not available on this server.</p>
              )}
              <Chart events={history} />
            </div>
          </div>
        </>
      )}
      <Section title="Timeline">
        <Problem error={events.error} what="The events" />
        <div class="table-wrap">
          <table data-testid="timeline">
            <caption class="sr-only">Events of this task, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">type</th>
                <th scope="col">state</th>
                <th scope="col">queue</th>
                <th scope="col">progress</th>
                <th scope="col">observed</th>
              </tr>
            </thead>
            <tbody>
              {history.map((event) => (
                <tr key={event.sequence}>
                  <td>{event.sequence}</td>
                  <td>{event.type}</td>
                  <td>
                    <StateBadge state={event.state} />
                  </td>
                  <td>
                    {event.queueNum ?? '—'} / {event.queueTotal ?? '—'}
                  </td>
                  <td>{percent(event.progress)}</td>
                  <td>{time(event.observedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
    </>
  );
}

/** Queue position (falling is good) and progress over time, one small SVG. */
function Chart({ events }: { events: TaskEvent[] }) {
  if (events.length < 2) return <p class="hint">The chart appears after two events.</p>;
  const W = 300;
  const H = 100;
  const t0 = new Date(events[0].observedAt).getTime();
  const t1 = Math.max(t0 + 1, new Date(events[events.length - 1].observedAt).getTime());
  const maxQueue = Math.max(1, ...events.map((e) => e.queueTotal ?? e.queueNum ?? 0));
  const x = (e: TaskEvent) => ((new Date(e.observedAt).getTime() - t0) / (t1 - t0)) * W;
  const line = (y: (e: TaskEvent) => number | null) =>
    events
      .filter((e) => y(e) !== null)
      .map((e) => `${x(e).toFixed(1)},${(H - (y(e) as number) * H).toFixed(1)}`)
      .join(' ');
  const queue = line((e) => (e.queueNum === null ? null : e.queueNum / maxQueue));
  const progress = line((e) =>
    e.progress === null ? null : Math.min(1, e.progress > 1 ? e.progress / 100 : e.progress),
  );
  const last = events[events.length - 1];
  return (
    <figure class="chart">
      <svg
        viewBox={`-2 -2 ${W + 4} ${H + 4}`}
        role="img"
        aria-label={`Queue position and progress over time: now position ${last.queueNum ?? 'none'} and ${percent(last.progress)} done`}
      >
        <rect x="0" y="0" width={W} height={H} class="chart-bg" />
        {queue && <polyline points={queue} class="chart-queue" />}
        {progress && <polyline points={progress} class="chart-progress" />}
      </svg>
      <figcaption>
        <span class="key key-queue">queue position (of {maxQueue})</span>{' '}
        <span class="key key-progress">progress</span>
      </figcaption>
    </figure>
  );
}
