import { render } from 'preact';
import { useState } from 'preact/hooks';
import { api, loadSession, ok, saveSession, type Session } from './api/client';
import { linkProps, navigate, usePath } from './router';
import { AdminPage } from './pages/admin';
import { DeliveriesPage, DeliveryPage } from './pages/deliveries';
import { EndpointsPage } from './pages/endpoints';
import { HealthPage } from './pages/health';
import { TaskPage, TasksPage } from './pages/tasks';
import './styles.css';

const TENANT_PAGES = [
  ['/tasks', 'Tasks'],
  ['/endpoints', 'Endpoints'],
  ['/deliveries', 'Deliveries'],
  ['/health', 'Health'],
] as const;
const ADMIN_PAGES = [
  ['/admin', 'Admin'],
  ['/health', 'Health'],
] as const;

function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [role, setRole] = useState<Session['role']>('tenant');
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError('');
    const session: Session = { role, token: token.trim() };
    saveSession(session);
    try {
      // a cheap call that only this kind of credential may make
      if (role === 'admin') await ok(api.GET('/v1/tenants', { params: { query: { limit: 1 } } }));
      else await ok(api.GET('/v1/tasks', { params: { query: { limit: 1 } } }));
      onSignedIn(session);
    } catch (failure) {
      saveSession(null);
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="signin">
      <h1>uxc-relay console</h1>
      <form onSubmit={submit} aria-describedby="signin-help">
        <fieldset>
          <legend>Sign in as</legend>
          <label class="inline">
            <input
              type="radio"
              name="role"
              checked={role === 'tenant'}
              onChange={() => setRole('tenant')}
            />{' '}
            a tenant (API key)
          </label>
          <label class="inline">
            <input
              type="radio"
              name="role"
              checked={role === 'admin'}
              onChange={() => setRole('admin')}
            />{' '}
            the admin (ADMIN_TOKEN)
          </label>
        </fieldset>
        <label class="field">
          <span>{role === 'admin' ? 'Admin token' : 'API key'}</span>
          <input
            type="password"
            autoComplete="off"
            required
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        <p id="signin-help" class="hint">
          Kept in this tab's session storage only; closing the tab signs you out.
        </p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            Could not sign in: {error}
          </p>
        )}
      </form>
    </main>
  );
}

function Page({ path, session }: { path: string; session: Session }) {
  const task = /^\/tasks\/(.+)$/.exec(path);
  if (task) return <TaskPage sid={decodeURIComponent(task[1])} />;
  const delivery = /^\/deliveries\/([^/]+)$/.exec(path);
  if (delivery) return <DeliveryPage id={decodeURIComponent(delivery[1])} />;
  switch (path) {
    case '/tasks':
      return <TasksPage />;
    case '/endpoints':
      return <EndpointsPage />;
    case '/deliveries':
      return <DeliveriesPage />;
    case '/health':
      return <HealthPage />;
    case '/admin':
      return <AdminPage />;
    default:
      return session.role === 'admin' ? <AdminPage /> : <TasksPage />;
  }
}

function App() {
  const [session, setSession] = useState(loadSession());
  const path = usePath();
  if (!session) {
    return (
      <SignIn
        onSignedIn={(next) => {
          setSession(next);
          navigate(next.role === 'admin' ? '/admin' : '/tasks');
        }}
      />
    );
  }
  const pages = session.role === 'admin' ? ADMIN_PAGES : TENANT_PAGES;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span class="brand">uxc-relay</span>
        <nav aria-label="Console pages">
          <ul>
            {pages.map(([to, label]) => (
              <li key={to}>
                <a {...linkProps(to)} aria-current={path.startsWith(to) ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            saveSession(null);
            setSession(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} session={session} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
