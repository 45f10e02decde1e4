import { useState } from 'preact/hooks';
import { api, call, ok, type Schemas } from '../api/client';

type Endpoint = Schemas['EndpointResponseDto'];
type Recovery = Schemas['RecoveryResponseDto'];
import { Field, Problem, Section, StateBadge, time, useLoad } from '../ui';

type EventType = NonNullable<Endpoint['events']>[number];

/** The typed event list; the server names a wrong type in its 400. */
function eventsOf(text: string): EventType[] | undefined {
  const list = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return list.length ? (list as EventType[]) : undefined;
}

/** An ISO instant from a datetime-local value, read as UTC (the console shows UTC everywhere). */
function sinceOf(local: string): string {
  return new Date(`${local}:00Z`).toISOString();
}

function hourAgo(): string {
  return new Date(Date.now() - 3600_000).toISOString().slice(0, 16);
}

export function EndpointsPage() {
  const endpoints = useLoad(
    () => ok(api.GET('/v1/endpoints', { params: { query: { limit: 200 } } })),
    [],
  );
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [description, setDescription] = useState('');
  const [createError, setCreateError] = useState<unknown>();

  async function create(event: Event) {
    event.preventDefault();
    setCreateError(undefined);
    try {
      await ok(
        api.POST('/v1/endpoints', {
          body: {
            url: url.trim(),
            events: eventsOf(events),
            description: description.trim() || undefined,
          },
        }),
      );
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
  const path = { id: endpoint.id };
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
        {endpoint.state === 'disabled' && (
          <button
            type="button"
            onClick={() =>
              act('Re-enabled: its held deliveries go out in order.', async () => {
                await ok(
                  api.PATCH('/v1/endpoints/{id}', { params: { path }, body: { state: 'active' } }),
                );
                onChange();
              })
            }
          >
            Re-enable
          </button>
        )}
        {endpoint.state === 'active' && (
          <button
            type="button"
            class="danger"
            onClick={() =>
              act(
                'Disabled: its deliveries are held, not dropped, until it is re-enabled.',
                async () => {
                  // a server that refuses it answers 400 with its reason, which the card shows
                  await ok(
                    api.PATCH('/v1/endpoints/{id}', {
                      params: { path },
                      body: { state: 'disabled' },
                    }),
                  );
                  onChange();
                },
              )
            }
          >
            Disable
          </button>
        )}
        <button
          type="button"
          class="secondary"
          onClick={() =>
            act('Signing secret shown.', async () => {
              setSecret(
                (await ok(api.GET('/v1/endpoints/{id}/secret', { params: { path } }))).secret,
              );
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
              setSecret(
                (await ok(api.POST('/v1/endpoints/{id}/secret/rotate', { params: { path } })))
                  .secret,
              );
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
              await ok(api.DELETE('/v1/endpoints/{id}', { params: { path } }));
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
              await ok(
                api.PATCH('/v1/endpoints/{id}', {
                  params: { path },
                  body: {
                    // the document types this nullable string loosely; the server validates it
                    description: (description.trim() || null) as never,
                    events: eventsOf(events) ?? null,
                  },
                }),
              );
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
            const { id } = await ok(
              api.POST('/v1/endpoints/{id}/recover', {
                params: { path },
                body: { since: sinceOf(since) },
              }),
            );
            await followRecovery(id, setRecovery);
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

/** Shows a recovery's progress until it has completed. */
async function followRecovery(id: string, show: (recovery: Recovery) => void): Promise<void> {
  for (;;) {
    const recovery = await ok(api.GET('/v1/recoveries/{id}', { params: { path: { id } } }));
    show(recovery);
    if (recovery.state === 'completed') return;
    await new Promise((done) => setTimeout(done, 1000));
  }
}

function RecoveryStatus({ recovery }: { recovery: Recovery }) {
  return (
    <p class="hint" data-testid="recovery">
      Recovery {recovery.state}: {recovery.succeeded} of {recovery.total} sent again
      {recovery.failed > 0 && `, ${recovery.failed} failed`}
      {recovery.pending > 0 && `, ${recovery.pending} to go`}.
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
                      {s.state === 'active' && (
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Disable subscription ${s.sid}`}
                          onClick={() =>
                            act('Disabled: its deliveries are held until it is re-enabled.', () =>
                              call('PATCH', `/v1/subscriptions/${s.id}`, { state: 'disabled' }),
                            )
                          }
                        >
                          Disable
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
