import { useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../api/client';
import { Field, Problem, Section, time, useLoad } from '../ui';

type Tenant = Schemas['TenantResponseDto'];

/** A key or token the server shows once: copy it now. */
function ShownOnce({ label, value }: { label: string; value: string }) {
  return (
    <div class="shown-once" role="alert">
      <p>
        {label} (shown only now; copy it): <code class="secret">{value}</code>
      </p>
    </div>
  );
}

export function AdminPage() {
  const tenants = useLoad(
    () => ok(api.GET('/v1/tenants', { params: { query: { limit: 200 } } })),
    [],
  );
  const [name, setName] = useState('');
  const [uxcAk, setUxcAk] = useState('');
  const [uxcSk, setUxcSk] = useState('');
  const [created, setCreated] = useState<{ name: string; apiKey: string }>();
  const [error, setError] = useState<unknown>();

  async function create(event: Event) {
    event.preventDefault();
    setError(undefined);
    try {
      const tenant = await ok(api.POST('/v1/tenants', { body: { name, uxcAk, uxcSk } }));
      setCreated({ name: tenant.name, apiKey: tenant.apiKey });
      setName('');
      setUxcAk('');
      setUxcSk('');
      tenants.reload();
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <>
      <h1>Admin: tenants and keys</h1>
      <Section title="New tenant">
        <form class="card" aria-label="New tenant" onSubmit={create}>
          <Field label="Name">
            <input
              required
              value={name}
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          </Field>
          <Field label="UXC AK">
            <input
              required
              value={uxcAk}
              onInput={(e) => setUxcAk((e.target as HTMLInputElement).value)}
            />
          </Field>
          <Field label="UXC SK">
            <input
              type="password"
              autoComplete="off"
              required
              value={uxcSk}
              onInput={(e) => setUxcSk((e.target as HTMLInputElement).value)}
            />
          </Field>
          <button type="submit">Create tenant</button>
          <Problem error={error} what="Creating the tenant" />
        </form>
        {created && <ShownOnce label={`API key of ${created.name}`} value={created.apiKey} />}
      </Section>
      <Section title="Tenants">
        <Problem error={tenants.error} what="Tenants" />
        <ul class="items">
          {tenants.data?.items.map((tenant) => (
            <TenantItem key={tenant.id} tenant={tenant} onChange={tenants.reload} />
          ))}
        </ul>
      </Section>
    </>
  );
}

function TenantItem({ tenant, onChange }: { tenant: Tenant; onChange: () => void }) {
  const keys = useLoad(
    () =>
      ok(
        api.GET('/v1/tenants/{id}/api-keys', {
          params: { path: { id: tenant.id } },
        }),
      ),
    [tenant.id],
  );
  const [issued, setIssued] = useState('');
  const [error, setError] = useState<unknown>();

  async function act(run: () => Promise<unknown>) {
    setError(undefined);
    try {
      await run();
      keys.reload();
      onChange();
    } catch (failure) {
      setError(failure);
    }
  }

  const items = keys.data;
  return (
    <li class="card" aria-label={`Tenant ${tenant.name}`}>
      <h3>{tenant.name}</h3>
      <p class="hint">
        id <code>{tenant.id}</code> · UXC AK <code>{tenant.uxcAk}</code> · created{' '}
        {time(tenant.createdAt)}
      </p>
      <button
        type="button"
        onClick={() =>
          act(async () => {
            const key = await ok(
              api.POST('/v1/tenants/{id}/api-keys', { params: { path: { id: tenant.id } } }),
            );
            setIssued(key.apiKey);
          })
        }
      >
        Issue key for {tenant.name}
      </button>
      {issued && <ShownOnce label={`New API key of ${tenant.name}`} value={issued} />}
      <Problem error={keys.error ?? error} what="Keys" />
      {items && (
        <div class="table-wrap">
          <table>
            <caption>API keys of {tenant.name}</caption>
            <thead>
              <tr>
                <th scope="col">prefix</th>
                <th scope="col">created</th>
                <th scope="col">last used</th>
                <th scope="col">
                  <span class="sr-only">actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((key) => (
                <tr key={key.id}>
                  <td>
                    <code>{key.prefix}…</code>
                  </td>
                  <td>{time(key.createdAt)}</td>
                  <td>{time(key.lastUsedAt)}</td>
                  <td>
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Delete key ${key.prefix} of ${tenant.name}`}
                      onClick={() =>
                        act(() =>
                          ok(
                            api.DELETE('/v1/tenants/{id}/api-keys/{keyId}', {
                              params: { path: { id: tenant.id, keyId: key.id } },
                            }),
                          ),
                        )
                      }
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </li>
  );
}
