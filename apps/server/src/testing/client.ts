import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests index response JSON freely
type Json = any;

/** A GraphQL response as JSON. */
export interface GqlResponse<D = Record<string, Json>> {
  status: number;
  data?: D | null;
  errors?: Array<{ message: string; extensions?: Record<string, Json> }>;
  /** The response cache's verdict (`hit`, `miss`), absent when the request could not be stored. */
  cache?: string;
}

/** POSTs a GraphQL operation (optionally with a bearer token) and returns status + JSON body. */
export async function gql<D = Record<string, Json>>(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResponse<D>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GqlResponse<D>, 'status'>;
  return { status: res.status, ...body, ...(res.headers.has('x-medad-cache') ? { cache: res.headers.get('x-medad-cache')! } : {}) };
}

/** A graphql-ws client for `url` (http→ws), sending the token in connection_init. */
export function wsClient(url: string, token?: string, onClose?: (code: number, reason: string) => void): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
    retryAttempts: 0,
    lazy: true,
    on: onClose ? { closed: (e) => onClose((e as { code: number }).code, String((e as { reason?: string }).reason ?? '')) } : undefined,
  });
}
