import { useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../api/client';
import { linkProps, useQueryParam } from '../router';
import { Field, Problem, Section, StateBadge, time, useLoad } from '../ui';

type Attempt = Schemas['DeliveryAttemptDto'];

const STATES = ['pending', 'succeeded', 'failed', 'superseded', 'canceled', 'held'];
const EVENT_TYPES = [
  'task.queued',
  'task.running',
  'task.progress',
  'task.succeeded',
  'task.failed',
  'task.canceled',
  'task.unknown',
  'task.expired',
  'task.error',
];

export function DeliveriesPage() {
  const [state, setState] = useQueryParam('state');
  const [eventType, setEventType] = useQueryParam('eventType');
  const list = useLoad(
    () =>
      ok(
        api.GET('/v1/deliveries', {
          params: {
            query: {
              limit: 100,
              ...(state ? { state } : {}),
              ...(eventType ? { eventType } : {}),
            } as never,
          },
        }),
      ),
    [state, eventType],
  );
  return (
    <>
      <h1>Deliveries</h1>
      <div class="filters">
        <Field label="State">
          <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </Field>
        <Field label="Event type">
          <select
            value={eventType}
            onChange={(e) => setEventType((e.target as HTMLSelectElement).value)}
          >
            <option value="">any</option>
            {EVENT_TYPES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </Field>
        <button type="button" class="secondary" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <Problem error={list.error} what="The delivery list" />
      {list.data && list.data.items.length === 0 && <p>No deliveries match.</p>}
      {list.data && list.data.items.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">delivery</th>
                <th scope="col">event</th>
                <th scope="col">state</th>
                <th scope="col">attempts</th>
                <th scope="col">last answer</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <a {...linkProps(`/deliveries/${encodeURIComponent(d.id)}`)}>{d.id}</a>
                  </td>
                  <td>
                    {d.eventType} #{d.sequence}
                  </td>
                  <td>
                    <StateBadge state={d.state} />
                  </td>
                  <td>{d.attemptCount}</td>
                  <td>
                    {d.lastAttempt
                      ? (d.lastAttempt.statusCode ?? d.lastAttempt.error ?? '—')
                      : 'not tried yet'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function DeliveryPage({ id }: { id: string }) {
  const delivery = useLoad(
    () => ok(api.GET('/v1/deliveries/{id}', { params: { path: { id } } })),
    [id],
  );
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>();

  async function redeliver(asNew: boolean) {
    setError(undefined);
    setNote('');
    try {
      const answer = await ok(
        api.POST('/v1/deliveries/{id}/redeliver', {
          params: { path: { id } },
          body: { asNew },
        }),
      );
      setNote(
        asNew && answer.id !== id
          ? `Queued as a new message: ${answer.id}.`
          : 'Queued: one more attempt with the same webhook-id.',
      );
      delivery.reload();
    } catch (failure) {
      setError(failure);
    }
  }

  const d = delivery.data;
  return (
    <>
      <p>
        <a {...linkProps('/deliveries')}>← All deliveries</a>
      </p>
      <h1>
        Delivery <code>{id}</code>
      </h1>
      <Problem error={delivery.error} what="The delivery" />
      {d && (
        <>
          <dl class="card facts" aria-label="Delivery">
            <dt>State</dt>
            <dd data-testid="delivery-state">
              <StateBadge state={d.state} />
            </dd>
            <dt>Event</dt>
            <dd>
              {d.eventType} #{d.sequence}
            </dd>
            <dt>Attempts</dt>
            <dd>{d.attemptCount}</dd>
            <dt>Next attempt</dt>
            <dd>{time(d.nextAttemptAt)}</dd>
            <dt>Subscription</dt>
            <dd>
              <code>{d.subscriptionId}</code>
            </dd>
          </dl>
          <div class="actions">
            <button type="button" onClick={() => redeliver(false)}>
              Redeliver
            </button>
            <button type="button" class="secondary" onClick={() => redeliver(true)}>
              Redeliver as new
            </button>
            <button type="button" class="secondary" onClick={delivery.reload}>
              Refresh
            </button>
          </div>
          <div role="status" aria-live="polite">
            {note && <p class="ok">{note}</p>}
          </div>
          <Problem error={error} what="Redelivering" />
          <Section title="Attempts">
            {d.attempts.length === 0 && <p>Not tried yet.</p>}
            <ol class="items">
              {d.attempts.map((attempt, i) => (
                <AttemptItem key={i} attempt={attempt} />
              ))}
            </ol>
          </Section>
          <Section title="Payload">
            <pre class="payload" tabIndex={0} aria-label="Payload">
              {JSON.stringify(d.payload, null, 2)}
            </pre>
          </Section>
        </>
      )}
    </>
  );
}

function AttemptItem({ attempt }: { attempt: Attempt }) {
  return (
    <li class="card attempt">
      <p>
        <strong>{attempt.statusCode ?? 'no answer'}</strong> in {attempt.durationMs} ms at{' '}
        {time(attempt.at)}
        {attempt.error && <span class="error-text"> · {attempt.error}</span>}
      </p>
      {attempt.responseHeaders && (
        <details>
          <summary>Response headers</summary>
          <pre tabIndex={0}>
            {Object.entries(attempt.responseHeaders)
              .map(([k, v]) => `${k}: ${String(v)}`)
              .join('\n')}
          </pre>
        </details>
      )}
      {attempt.responseBody && (
        <details>
          <summary>Response body (start)</summary>
          <pre tabIndex={0}>{attempt.responseBody}</pre>
        </details>
      )}
    </li>
  );
}
