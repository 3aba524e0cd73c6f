/** Domain error codes; the GraphQL edge maps them to `extensions.code`. */
export enum ErrorCode {
  /** A user-supplied value (CLI flag, config field, GraphQL input) is invalid. */
  BadUserInput = 'BAD_USER_INPUT',
  /** A plugin config failed its schema. */
  InvalidConfig = 'INVALID_CONFIG',
  /** No plugin (or dataset, run, checkpoint) with that id exists. */
  NotFound = 'NOT_FOUND',
  /** A data file (JSONL line, image, DICOM, NIfTI) is malformed. */
  InvalidData = 'INVALID_DATA',
  /** The input is well-formed but uses a feature we do not support. */
  Unsupported = 'UNSUPPORTED',
  /** Two things claim the same name, or a state transition is not allowed. */
  Conflict = 'CONFLICT',
  /** A path escapes the configured roots, or a token lacks the role. */
  Forbidden = 'FORBIDDEN',
  /** The operation was cancelled by the user. */
  Cancelled = 'CANCELLED',
  /** A bug or an environment failure; the message says what failed. */
  Internal = 'INTERNAL',
}

/** Options for {@link MedadError}. */
export interface MedadErrorOptions {
  cause?: unknown;
  /** What the user should do about it; appended to the message. */
  fix?: string;
  /** Machine-readable context (file, line, field, valid choices). */
  details?: Record<string, unknown>;
}

/** The one error base class: a code, a message that says what is wrong, and how to fix it. */
export class MedadError extends Error {
  readonly code: ErrorCode;
  readonly fix?: string;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: MedadErrorOptions = {}) {
    super(options.fix ? `${message}. Fix: ${options.fix}` : message, { cause: options.cause });
    this.name = 'MedadError';
    this.code = code;
    this.fix = options.fix;
    this.details = options.details ?? {};
  }
}

/** True when `err` is a {@link MedadError}, optionally with a given code. */
export function isMedadError(err: unknown, code?: ErrorCode): err is MedadError {
  return err instanceof MedadError && (code === undefined || err.code === code);
}

/** A short human message for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
