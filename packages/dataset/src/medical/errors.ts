import { ErrorCode, MedadError } from '@medad/core';

/** A malformed medical file: names the path and the reason, and says the fix. */
export function invalidMedicalData(path: string, reason: string, fix: string, cause?: unknown): MedadError {
  return new MedadError(ErrorCode.InvalidData, `${path}: ${reason}`, { fix, cause, details: { file: path } });
}

/** A well-formed medical file using a feature this module does not decode. */
export function unsupportedMedicalData(path: string, reason: string, fix: string, details: Record<string, unknown> = {}): MedadError {
  return new MedadError(ErrorCode.Unsupported, `${path}: ${reason}`, { fix, details: { file: path, ...details } });
}

/** The text of anything a third-party parser threw (dicom-parser throws strings and `{ exception }` objects). */
export function thrownText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && 'exception' in err) return thrownText((err as { exception: unknown }).exception);
  return String(err);
}
