/** Shared bits of the page: the hash router, the error banner, status pills, small controls. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import type { RunStatus } from './model.js';

/** `#/run/abc/charts` → ['run', 'abc', 'charts']. */
export function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const f = (): void => setHash(location.hash);
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
}

export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join('/')}`;
export const go = (...parts: string[]): void => {
  location.hash = href(...parts);
};

// ---- the error banner ------------------------------------------------------------------------

let current: { message: string; fix?: string } | null = null;
const listeners = new Set<() => void>();

/** Shows an error (the server's message and its fix) in the page's alert region. */
export function showError(err: unknown): void {
  current = err instanceof ApiError ? { message: err.message, fix: err.fix } : { message: err instanceof Error ? err.message : String(err) };
  for (const f of listeners) f();
}
export function clearError(): void {
  current = null;
  for (const f of listeners) f();
}

export function ErrorBanner() {
  const [, tick] = useState(0);
  useEffect(() => {
    const f = (): void => tick((n) => n + 1);
    listeners.add(f);
    return () => listeners.delete(f);
  }, []);
  return (
    <div id="error" role="alert" class={current ? 'error' : 'error empty'}>
      {current && (
        <>
          <span>{current.message}</span>
          {current.fix && <span class="fix"> Fix: {current.fix}</span>}
          <button type="button" class="link" onClick={clearError}>
            Dismiss
          </button>
        </>
      )}
    </div>
  );
}

export function StatusPill({ status }: { status: RunStatus }) {
  return <span class={`pill pill-${status.toLowerCase()}`}>{status.toLowerCase()}</span>;
}

export function Field({ label, id, children, error, hint }: { label: string; id: string; children: ComponentChildren; error?: string; hint?: string }) {
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} class="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

/** Polls `f` every `ms` while mounted (and `enabled`). */
export function useInterval(f: () => void, ms: number, enabled = true): void {
  const latest = useRef(f);
  latest.current = f;
  useEffect(() => {
    if (!enabled) return;
    const t = setInterval(() => latest.current(), ms);
    return () => clearInterval(t);
  }, [ms, enabled]);
}
