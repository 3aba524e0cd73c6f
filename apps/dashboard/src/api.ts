/**
 * The dashboard's only way to the server: GraphQL over HTTP (`fetch`) for queries and mutations,
 * graphql-ws's own client for subscriptions, and `/images/<run>/<sample>` for sample images. The
 * API token lives for the browser session (sessionStorage) and is sent as a Bearer header.
 */
import { createClient, type Client } from 'graphql-ws';
import { useEffect, useRef, useState } from 'preact/hooks';

const TOKEN_KEY = 'medad.apiToken';

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
const tokenListeners = new Set<() => void>();

export const getToken = (): string => token;

/** Sets (or, with '', forgets) the session's API token; open subscriptions reconnect with it. */
export function setToken(value: string): void {
  token = value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  resetSocket();
  for (const f of tokenListeners) f();
}

export function onTokenChange(f: () => void): () => void {
  tokenListeners.add(f);
  return () => tokenListeners.delete(f);
}

/** Field path (`input.hyper.steps`) → the server's message about it. */
export type FieldErrors = Record<string, string>;

/** A GraphQL or transport error, with the fields it names when it is a validation error. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly fields: FieldErrors = {},
    readonly fix?: string,
  ) {
    super(message);
  }
  get unauthenticated(): boolean {
    return this.code === 'UNAUTHENTICATED' || this.code === 'HTTP_401';
  }
}

interface GraphQLErrorJson {
  message: string;
  extensions?: { code?: string; fix?: string; details?: { field?: string; issues?: Array<{ field: string; message: string }> } };
}

/** The fields a server error names: `details.issues`, `details.field`, or `input.x.y: problem` in its message. */
export function fieldErrors(errors: readonly GraphQLErrorJson[]): FieldErrors {
  const out: FieldErrors = {};
  for (const e of errors) {
    const d = e.extensions?.details;
    if (Array.isArray(d?.issues)) for (const i of d.issues) out[i.field] = i.message;
    else if (typeof d?.field === 'string') out[d.field] = e.message.replace(/^[\w.[\]]+: /, '');
    else
      for (const part of e.message.split('; ')) {
        const m = /^(input\.[\w.]+): (.*)$/.exec(part);
        if (m) out[m[1]!] = m[2]!;
      }
  }
  return out;
}

const authHeaders = (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** Runs a query or mutation; GraphQL errors throw an {@link ApiError} carrying the server's message and fields. */
export async function gql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...authHeaders() },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError(`The control plane is unreachable (${(err as Error).message}); is \`medad serve\` running?`, 'NETWORK');
  }
  let body: { data?: T; errors?: GraphQLErrorJson[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new ApiError(`The control plane answered HTTP ${res.status} without JSON`, `HTTP_${res.status}`);
  }
  if (body.errors?.length) {
    const first = body.errors[0]!;
    const code = first.extensions?.code ?? (res.status === 401 ? 'UNAUTHENTICATED' : undefined);
    throw new ApiError(body.errors.map((e) => e.message).join('; '), code, fieldErrors(body.errors), first.extensions?.fix);
  }
  if (!res.ok || body.data === undefined) throw new ApiError(`The control plane answered HTTP ${res.status}`, `HTTP_${res.status}`);
  return body.data;
}

/** A sample image of a run as an object URL (fetched with the token; the caller revokes it). */
export async function imageUrl(runId: string, sampleId: string): Promise<string> {
  const res = await fetch(`/images/${encodeURIComponent(runId)}/${encodeURIComponent(sampleId)}`, { headers: authHeaders() });
  if (!res.ok) throw new ApiError(`No image for sample ${sampleId} (HTTP ${res.status})`, `HTTP_${res.status}`);
  return URL.createObjectURL(await res.blob());
}

// ---- subscriptions ---------------------------------------------------------------------------

export type SocketState = 'idle' | 'connecting' | 'connected' | 'closed' | 'refused';
let client: Client | undefined;
let socketState: SocketState = 'idle';
let generation = 0;
const socketListeners = new Set<() => void>();

function setSocketState(s: SocketState): void {
  socketState = s;
  for (const f of socketListeners) f();
}

/** Closes the socket; every {@link useSubscription} subscribes again on a fresh one (a new token). */
function resetSocket(): void {
  // graphql-ws's dispose() awaits the pending connection, which rejects with the CloseEvent when
  // the server refused or closed it: nothing is left to close then, and the rejection must not
  // surface as an uncaught error in the page.
  if (client) void Promise.resolve(client.dispose()).catch(() => undefined);
  client = undefined;
  generation++;
  setSocketState('idle');
}

function socket(): Client {
  if (client) return client;
  client = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: () => authHeaders(),
    lazy: true,
    keepAlive: 15_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    // 4403: the token was refused; reconnecting cannot help until the user gives another one.
    shouldRetry: (e) => !(e && typeof e === 'object' && 'code' in e && (e as CloseEvent).code === 4403),
    on: {
      connecting: () => setSocketState('connecting'),
      connected: () => setSocketState('connected'),
      closed: (e) => {
        const code = e && typeof e === 'object' && 'code' in e ? (e as CloseEvent).code : 0;
        // 1000: the lazy client closed an unused socket (no subscription open), not a failure.
        setSocketState(code === 4403 ? 'refused' : code === 1000 ? 'idle' : 'closed');
      },
    },
  });
  return client;
}

export function useSocketState(): SocketState {
  const [, tick] = useState(0);
  useEffect(() => {
    const f = (): void => tick((n) => n + 1);
    socketListeners.add(f);
    return () => socketListeners.delete(f);
  }, []);
  return socketState;
}

/**
 * Subscribes while mounted (and `enabled`), again when `key` changes or the token changes. The
 * latest `onNext` is always the one called. graphql-ws re-sends the subscription after a reconnect.
 */
export function useSubscription<T>(query: string, variables: () => Record<string, unknown>, onNext: (data: T) => void, key: string, enabled = true, onComplete?: () => void): void {
  const next = useRef(onNext);
  next.current = onNext;
  const done = useRef(onComplete);
  done.current = onComplete;
  const [gen, setGen] = useState(generation);
  useEffect(() => onTokenChange(() => setGen(generation)), []);
  useEffect(() => {
    if (!enabled) return;
    return socket().subscribe<T>(
      { query, variables: variables() },
      {
        next: (r) => r.data && next.current(r.data as T),
        error: () => undefined, // the socket state shows it; polling covers the gap
        complete: () => done.current?.(),
      },
    );
  }, [key, enabled, gen]);
}

/** Runs `load` now and whenever `deps` change; `reload` runs it again. Errors are kept, not thrown. */
export function useQuery<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: ApiError | undefined; loading: boolean; reload: () => Promise<void> } {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const seq = useRef(0);
  const reload = async (): Promise<void> => {
    const mine = ++seq.current;
    try {
      const data = await load();
      if (mine === seq.current) setState({ data, error: undefined, loading: false });
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError((err as Error).message, undefined);
      if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  };
  const [gen, setGen] = useState(0);
  useEffect(() => onTokenChange(() => setGen((g) => g + 1)), []);
  useEffect(() => {
    void reload();
  }, [...deps, gen]);
  return { ...state, reload };
}
