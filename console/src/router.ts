import { useEffect, useState } from 'preact/hooks';

/** The console lives under /console; the relay answers index.html for every path below it. */
export const BASE = '/console';

export function currentPath(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '/';
  return path || '/';
}

export function navigate(path: string): void {
  history.pushState(null, '', BASE + path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = () => setPath(currentPath());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return path;
}

/** A link inside the console: a real <a href> (keyboard, middle click) that navigates without a reload. */
export function linkProps(path: string) {
  return {
    href: BASE + path,
    onClick: (event: MouseEvent) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      navigate(path);
    },
  };
}

/** Reads and writes the query string, so filters survive a reload and can be shared. */
export function useQueryParam(name: string): [string, (value: string) => void] {
  const [value, setValue] = useState(new URLSearchParams(location.search).get(name) ?? '');
  const update = (next: string) => {
    const params = new URLSearchParams(location.search);
    if (next) params.set(name, next);
    else params.delete(name);
    const query = params.toString();
    history.replaceState(null, '', location.pathname + (query ? `?${query}` : ''));
    setValue(next);
  };
  return [value, update];
}
