import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode, MedadError, silentLogger, type Logger } from '@medad/core';

/** THE one mapping from domain error codes to GraphQL `extensions.code` (and the HTTP status of request-level errors). */
export const GRAPHQL_CODES: Record<ErrorCode, { code: string; http: number }> = {
  [ErrorCode.BadUserInput]: { code: 'BAD_USER_INPUT', http: 400 },
  [ErrorCode.InvalidConfig]: { code: 'BAD_USER_INPUT', http: 400 },
  [ErrorCode.NotFound]: { code: 'NOT_FOUND', http: 404 },
  [ErrorCode.InvalidData]: { code: 'INVALID_DATA', http: 422 },
  [ErrorCode.Unsupported]: { code: 'UNSUPPORTED', http: 400 },
  [ErrorCode.Conflict]: { code: 'CONFLICT', http: 409 },
  [ErrorCode.Forbidden]: { code: 'FORBIDDEN', http: 403 },
  [ErrorCode.Cancelled]: { code: 'CANCELLED', http: 409 },
  [ErrorCode.Internal]: { code: 'INTERNAL_SERVER_ERROR', http: 500 },
};

/** Turns a domain error into a GraphQL error carrying `extensions.code`, `fix` and `details`. */
export function toGraphQLError(err: MedadError): GraphQLError {
  const { code } = GRAPHQL_CODES[err.code];
  return new GraphQLError(err.message, { originalError: err, extensions: { code, fix: err.fix, ...(Object.keys(err.details).length ? { details: err.details } : {}) } });
}

function findMedadError(err: unknown): MedadError | undefined {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof MedadError) return e;
    e = (e as { originalError?: unknown; cause?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Apollo `formatError`: domain errors keep their message and get their code; errors that are
 * neither domain nor GraphQL errors (bugs) are logged and masked.
 */
export function formatError(logger: Logger = silentLogger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const medad = findMedadError(error);
    if (medad) {
      const g = toGraphQLError(medad);
      return { message: g.message, locations: formatted.locations, path: formatted.path, extensions: g.extensions };
    }
    const code = formatted.extensions?.code;
    if (code === 'INTERNAL_SERVER_ERROR' || code === undefined) {
      logger.error('unexpected error in a GraphQL request', { message: formatted.message, path: formatted.path });
      return { message: 'Internal server error (see the server log)', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
    // Stack traces (with file paths) stay in the server unless MEDAD_DEBUG is set.
    if (formatted.extensions && 'stacktrace' in formatted.extensions && !process.env.MEDAD_DEBUG) {
      const { stacktrace: _stack, ...extensions } = formatted.extensions;
      return { ...formatted, extensions };
    }
    return formatted;
  };
}

/** A GraphQL error with a code (for request-level checks: auth, limits). */
export function requestError(message: string, code: string, http: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: http } } });
}
