import { useState } from 'preact/hooks';
import { api, call, ok, type Endpoint, type Page, type Recovery } from '../api/client';
import { Field, Problem, Section, StateBadge, time, useLoad } from '../ui';

function eventsOf(text: string): string[] | undefined {
  const list = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return list.length ? list : undefined;
}

/** An ISO instant from a datetime-local value, read as UTC (the console shows UTC everywhere). */
function sinceOf(local: string): string {
  return new Date(`${local}:00Z`).toISOString();
}

function hourAgo(): string {
  return new Date(Date.now() - 3600_000).toISOString().slice(0, 16);
}

export function EndpointsPage() {
  const endpoints = useLoad(() => call<Page<Endpoint>>('GET', '/v1/endpoints?limit=200'), []);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [description, setDescription] = useState('');
  const [createError, setCreateError] = useState<unknown>();

  async function create(event: Event) {
    event.preventDefault();
    setCreateError(undefined);
    try {
      await call('POST', '/v1/endpoints', {
        url: url.trim(),
        events: eventsOf(events),
        description: description.trim() || undefined,
      });
      setUrl('');
      setEvents('');
      setDescription('');
      endpoints.reload();
    } catch (failure) {
      setCreateError(failure);
    }
  }

  return (
    <>
      <h1>Endpoints and subscriptions</h1>
      <Section title="Endpoints">
        <p class="hint">
          An endpoint receives the events of every task of yours that its filter matches.
        </p>
        <Problem error={endpoints.error} what="Endpoints" />
        {endpoints.data && (
          <>
            <form class="card" aria-label="New endpoint" onSubmit={create}>
              <Field label="URL">
                <input
                  type="url"
                  required
                  value={url}
                  onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
                />
              </Field>
              <Field label="Events (comma-separated; empty for all)">
                <input
                  value={events}
                  onInput={(e) => setEvents((e.target as HTMLInputElement).value)}
                />
              </Field>
              <Field label="Description">
                <input
                  value={description}
                  onInput={(e) => setDescription((e.target as HTMLInputElement).value)}
                />
              </Field>
              <button type="submit">Add endpoint</button>
              <Problem error={createError} what="Adding the endpoint" />
            </form>
            {endpoints.data.items.length === 0 && <p>No endpoints yet.</p>}
            <ul class="items">
              {endpoints.data.items.map((endpoint) => (
                <EndpointItem key={endpoint.id} endpoint={endpoint} onChange={endpoints.reload} />
              ))}
            </ul>
          </>
        )}
      </Section>
      <Subscriptions />
    </>
  );
}

function EndpointItem({ endpoint, onChange }: { endpoint: Endpoint; onChange: () => void }) {
  const base = `/v1/endpoints/${encodeURIComponent(endpoint.id)}`;
  const [editing, setEditing] = useState(false);
  const [description, setDescription] = useState(endpoint.description ?? '');
  const [events, setEvents] = useState((endpoint.events ?? []).join(', '));
  const [secret, setSecret] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>();
  const [since, setSince] = useState(hourAgo());
  const [recovery, setRecovery] = useState<Recovery>();

  async function act(what: string, run: () => Promise<unknown>) {
    setError(undefined);
    setNote('');
    try {
      await run();
      setNote(what);
    } catch (failure) {
      setError(failure);
    }
  }

  const label = endpoint.description || endpoint.url;
  return (
    <li class="card" aria-label={`Endpoint ${label}`}>
      <h3>
        <code>{endpoint.url}</code> <StateBadge state={endpoint.state} />
      </h3>
      <p class="hint">
        {endpoint.description ?? 'no description'} · events:{' '}
        {endpoint.events?.length ? endpoint.events.join(', ') : 'all'} · created{' '}
        {time(endpoint.createdAt)}
      </p>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => setEditing(!editing)}>
          {editing ? 'Cancel edit' : 'Edit'}
        </button>
        {endpoint.state === 'disabled' ? (
          <button
            type="button"
            onClick={() =>
              act('Re-enabled.', async () => {
                await call('PATCH', base, { state: 'active' });
                onChange();
              })
            }
          >
            Re-enable
          </button>
        ) : (
          <button
            type="button"
            class="secondary"
            onClick={() =>
              act('Disabled.', async () => {
                await call('PATCH', base, { state: 'disabled' });
                onChange();
              })
            }
          >
            Disable
          </button>
        )}
        <button
          type="button"
          class="secondary"
          onClick={() =>
            act('Secret shown below.', async () => {
              setSecret((await call<{ secret: string }>('GET', `${base}/secret`)).secret);
            })
          }
        >
          Show secret
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() =>
            act('Secret rotated; the old one still signs during the grace period.', async () => {
              setSecret((await call<{ secret: string }>('POST', `${base}/secret/rotate`)).secret);
            })
          }
        >
          Rotate secret
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() =>
            act('', async () => {
              const result = await ok(
                api.POST('/v1/webhook-test', { body: { callbackUrl: endpoint.url } }),
              );
              setNote(
                result.delivered
                  ? `Test event delivered: HTTP ${result.statusCode} in ${result.durationMs} ms.`
                  : `Test event not delivered: ${result.error ?? `HTTP ${result.statusCode}`}.`,
              );
            })
          }
        >
          Send test event
        </button>
        <button
          type="button"
          class="danger"
          onClick={() =>
            act('Deleted.', async () => {
              if (!confirm(`Delete the endpoint ${endpoint.url}?`)) return;
              await call('DELETE', base);
              onChange();
            })
          }
        >
          Delete
        </button>
      </div>
      {secret && (
        <p>
          Signing secret: <code class="secret">{secret}</code>
        </p>
      )}
      {editing && (
        <form
          aria-label="Edit endpoint"
          onSubmit={(e) => {
            e.preventDefault();
            void act('Saved.', async () => {
              await call('PATCH', base, {
                description: description.trim(),
                events: eventsOf(events) ?? null,
              });
              setEditing(false);
              onChange();
            });
          }}
        >
          <Field label="Description">
            <input
              value={description}
              onInput={(e) => setDescription((e.target as HTMLInputElement).value)}
            />
          </Field>
          <Field label="Events (comma-separated; empty for all)">
            <input
              value={events}
              onInput={(e) => setEvents((e.target as HTMLInputElement).value)}
            />
          </Field>
          <button type="submit">Save</button>
        </form>
      )}
      <RecoverForm
        since={since}
        setSince={setSince}
        onRecover={() =>
          act('Recovery started.', async () => {
            const { id } = await call<{ id: string }>('POST', `${base}/recover`, {
              since: sinceOf(since),
            });
            setRecovery({ id });
            setRecovery(await call<Recovery>('GET', `/v1/recoveries/${encodeURIComponent(id)}`));
          })
        }
      />
      {recovery && <RecoveryStatus recovery={recovery} />}
      <div role="status" aria-live="polite">
        {note && <p class="ok">{note}</p>}
      </div>
      <Problem error={error} what="That action" />
    </li>
  );
}

function RecoverForm(props: {
  since: string;
  setSince: (value: string) => void;
  onRecover: () => void;
}) {
  return (
    <form
      class="inline-form"
      aria-label="Recover since"
      onSubmit={(e) => {
        e.preventDefault();
        props.onRecover();
      }}
    >
      <Field label="Recover since (UTC)">
        <input
          type="datetime-local"
          required
          value={props.since}
          onInput={(e) => props.setSince((e.target as HTMLInputElement).value)}
        />
      </Field>
      <button type="submit" class="secondary">
        Recover since…
      </button>
    </form>
  );
}

function RecoveryStatus({ recovery }: { recovery: Recovery }) {
  const fields = Object.entries(recovery).filter(([, v]) => typeof v !== 'object');
  return (
    <p class="hint" data-testid="recovery">
      Recovery {fields.map(([k, v]) => `${k}: ${String(v)}`).join(' · ')}
    </p>
  );
}

function Subscriptions() {
  const subscriptions = useLoad(
    () => ok(api.GET('/v1/subscriptions', { params: { query: { limit: 100 } } })),
    [],
  );
  const [error, setError] = useState<unknown>();
  const [note, setNote] = useState('');
  const [since, setSince] = useState(hourAgo());

  async function act(what: string, run: () => Promise<unknown>) {
    setError(undefined);
    setNote('');
    try {
      await run();
      setNote(what);
      subscriptions.reload();
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <Section title="Subscriptions">
      <Problem error={subscriptions.error} what="Subscriptions" />
      <div role="status" aria-live="polite">
        {note && <p class="ok">{note}</p>}
      </div>
      <Problem error={error} what="That action" />
      {subscriptions.data && subscriptions.data.items.length === 0 && <p>No subscriptions.</p>}
      {subscriptions.data && subscriptions.data.items.length > 0 && (
        <>
          <Field label="Recover since (UTC), for the buttons below">
            <input
              type="datetime-local"
              value={since}
              onInput={(e) => setSince((e.target as HTMLInputElement).value)}
            />
          </Field>
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Subscriptions</caption>
              <thead>
                <tr>
                  <th scope="col">sid</th>
                  <th scope="col">callback</th>
                  <th scope="col">state</th>
                  <th scope="col">actions</th>
                </tr>
              </thead>
              <tbody>
                {subscriptions.data.items.map((s) => (
                  <tr key={s.id}>
                    <td>{s.sid}</td>
                    <td>
                      <code>{s.callbackUrl}</code>
                    </td>
                    <td>
                      <StateBadge state={s.state} />
                    </td>
                    <td class="actions">
                      {s.state === 'disabled' && (
                        <button
                          type="button"
                          onClick={() =>
                            act('Re-enabled.', () =>
                              call('PATCH', `/v1/subscriptions/${s.id}`, { state: 'active' }),
                            )
                          }
                        >
                          Re-enable
                        </button>
                      )}
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Recover subscription ${s.sid} since the time above`}
                        onClick={() =>
                          act('Recovery started.', () =>
                            call('POST', `/v1/subscriptions/${s.id}/recover`, {
                              since: sinceOf(since),
                            }),
                          )
                        }
                      >
                        Recover
                      </button>
                      {s.state === 'active' && (
                        <button
                          type="button"
                          class="danger"
                          aria-label={`Cancel subscription ${s.sid}`}
                          onClick={() =>
                            act('Canceled.', () =>
                              ok(
                                api.DELETE('/v1/subscriptions/{id}', {
                                  params: { path: { id: s.id } },
                                }),
                              ),
                            )
                          }
                        >
                          Cancel
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Section>
  );
}
