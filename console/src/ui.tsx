import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api/client';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change and on reload(); keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError | Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (failure: Error) => {
        if (!live) return;
        setError(failure);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}

/** The error of a call, or the "not available" note when this server lacks the route. */
export function Problem({ error, what }: { error: unknown; what: string }) {
  if (!error) return null;
  if (error instanceof ApiError && error.missingRoute) {
    return (
      <p class="notice" role="status">
        {what} is not available on this server (it does not have this API yet).
      </p>
    );
  }
  return (
    <p class="error" role="alert">
      {what}: {(error as Error).message}
    </p>
  );
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  const id = `h-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function time(value: string | Date | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime())
    ? String(value)
    : date.toISOString().replace('T', ' ').slice(0, 19);
}

export function StateBadge({ state }: { state: string | null | undefined }) {
  return <span class={`badge badge-${state ?? 'none'}`}>{state ?? 'none'}</span>;
}

/** A form control with its visible label. */
export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
    </label>
  );
}
