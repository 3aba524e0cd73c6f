import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ErrorCode, MedadError } from '@medad/core';

/** API roles: viewers query and subscribe; operators also start, cancel and resume runs. */
export type Role = 'viewer' | 'operator';

/** Who made a request. */
export interface Principal {
  role: Role;
  /** False when auth is off (loopback without tokens): every caller is an operator. */
  authenticated: boolean;
  /** Who the request counts against for rate limits (`callerKey`: the hashed token, else the remote address). */
  caller?: string;
}

const ROLES: readonly Role[] = ['viewer', 'operator'];

/** `details` of an auth failure that means "no valid credentials" (HTTP 401), as opposed to "not allowed" (403). */
export const UNAUTHENTICATED = Object.freeze({ auth: 'unauthenticated' });

/** Parses `token:role,token:role` (MEDAD_API_TOKENS) or the lines of a tokens file (`token:role`, `#` comments). */
export function parseTokens(text: string, source: string): Map<string, Role> {
  const tokens = new Map<string, Role>();
  const entries = text.split(/[\n,]/).map((s, i) => ({ s: s.trim(), i })).filter((e) => e.s && !e.s.startsWith('#'));
  for (const { s, i } of entries) {
    const at = s.lastIndexOf(':');
    const token = at > 0 ? s.slice(0, at).trim() : '';
    const role = at > 0 ? s.slice(at + 1).trim() : '';
    if (!token || !ROLES.includes(role as Role)) {
      throw new MedadError(ErrorCode.BadUserInput, `${source} entry ${i + 1} ("${s.length > 8 ? s.slice(0, 4) + '…' : s}") is not token:role with role viewer or operator`, {
        fix: 'write entries as token:viewer or token:operator, separated by commas or newlines',
      });
    }
    if (token.length < 16) {
      throw new MedadError(ErrorCode.BadUserInput, `${source} entry ${i + 1}: the token is ${token.length} characters; at least 16 are required`, {
        fix: 'generate one with `openssl rand -hex 24`',
      });
    }
    tokens.set(token, role as Role);
  }
  return tokens;
}

/** Reads tokens from MEDAD_API_TOKENS and/or the file named by MEDAD_API_TOKENS_FILE. */
export function tokensFromEnv(env: NodeJS.ProcessEnv = process.env): Map<string, Role> {
  const tokens = new Map<string, Role>();
  if (env.MEDAD_API_TOKENS) for (const [t, r] of parseTokens(env.MEDAD_API_TOKENS, 'MEDAD_API_TOKENS')) tokens.set(t, r);
  const file = env.MEDAD_API_TOKENS_FILE;
  if (file) {
    if (!existsSync(file)) throw new MedadError(ErrorCode.BadUserInput, `MEDAD_API_TOKENS_FILE ${file} does not exist`, { fix: 'create it (one token:role per line) or unset the variable' });
    for (const [t, r] of parseTokens(readFileSync(file, 'utf8'), file)) tokens.set(t, r);
  }
  return tokens;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Bearer-token authentication, compared in constant time. */
export class TokenAuth {
  private readonly hashed: Array<{ hash: Buffer; role: Role }>;

  constructor(
    tokens: Map<string, Role>,
    /** Whether requests must carry a token (beyond loopback, or whenever tokens are configured). */
    readonly required: boolean,
  ) {
    this.hashed = [...tokens].map(([t, role]) => ({ hash: digest(t), role }));
  }

  /** Auth for a server on `host`: required beyond loopback (where no tokens is a startup error) or when tokens exist. */
  static forHost(host: string, tokens: Map<string, Role>): TokenAuth {
    if (!isLoopback(host) && tokens.size === 0) {
      throw new MedadError(ErrorCode.Forbidden, `Refusing to listen on ${host} without API tokens`, {
        fix: 'set MEDAD_API_TOKENS=token:operator,token:viewer (or MEDAD_API_TOKENS_FILE), or listen on 127.0.0.1',
      });
    }
    return new TokenAuth(tokens, tokens.size > 0 || !isLoopback(host));
  }

  /** The caller behind an `Authorization` value, or a MedadError (FORBIDDEN) when a token is required and missing or wrong. */
  authenticate(authorization: string | undefined): Principal {
    if (!this.required) return { role: 'operator', authenticated: false };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) {
      throw new MedadError(ErrorCode.Forbidden, 'This server requires an API token', {
        fix: 'send the header "Authorization: Bearer <token>" (websocket: connection_init payload { authorization: "Bearer <token>" })',
        details: UNAUTHENTICATED,
      });
    }
    const h = digest(m[1]!);
    let role: Role | undefined;
    for (const entry of this.hashed) if (timingSafeEqual(entry.hash, h)) role = entry.role;
    if (!role) throw new MedadError(ErrorCode.Forbidden, 'The API token is not valid', {
        fix: 'use a token listed in MEDAD_API_TOKENS or the tokens file',
        details: UNAUTHENTICATED,
      });
    return { role, authenticated: true };
  }
}

/** Fails unless `principal` may run an operation of this type (mutations need the operator role). */
export function assertOperationAllowed(principal: Principal, operation: 'query' | 'mutation' | 'subscription'): void {
  if (operation === 'mutation' && principal.role !== 'operator') {
    throw new MedadError(ErrorCode.Forbidden, 'Mutations need the operator role; this token has the viewer role', {
      fix: 'use an operator token (MEDAD_API_TOKENS=token:operator)',
    });
  }
}
