import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ErrorCode, MedadError, isOptionLetter, type ConclusionReading, type JudgeInput, type OptionLetter } from '@medad/core';
import { promptVersion } from '@medad/core';

const FILE_VERSION = 1;

/** The cache key of a deduction: sha256 over model, prompt version (of the reading), question, options and the think as sent. */
export function judgeCacheKey(model: string, input: JudgeInput, reading: ConclusionReading = 'keep'): string {
  const payload = JSON.stringify([model, promptVersion(reading), input.question, [...input.options], input.think]);
  return createHash('sha256').update(payload).digest('hex');
}

/** Definite deductions (a letter or "none") by key, optionally persisted to a JSON file. */
export class JudgeCache {
  private readonly entries = new Map<string, OptionLetter | null>();
  private dirty = false;

  constructor(private readonly file?: string) {
    if (file && existsSync(file)) this.load(file);
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): OptionLetter | null {
    return this.entries.get(key) ?? null;
  }

  set(key: string, value: OptionLetter | null): void {
    this.entries.set(key, value);
    this.dirty = true;
  }

  /** Writes the file (when configured and changed) via a temporary file and a rename, so a crash never leaves half a file. */
  save(): void {
    if (!this.file || !this.dirty) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: FILE_VERSION, entries: Object.fromEntries(this.entries) }));
    renameSync(tmp, this.file);
    this.dirty = false;
  }

  private load(file: string): void {
    let data: { version?: unknown; entries?: unknown };
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as typeof data;
    } catch (err) {
      throw new MedadError(ErrorCode.InvalidData, `Judge cache file ${file} is not valid JSON`, {
        cause: err,
        fix: 'delete the file (it is rebuilt from the endpoint) or point cacheFile elsewhere',
      });
    }
    if (data.version !== FILE_VERSION || typeof data.entries !== 'object' || data.entries === null) {
      throw new MedadError(ErrorCode.InvalidData, `Judge cache file ${file} has version ${String(data.version)} or no "entries" object (expected version ${FILE_VERSION})`, {
        fix: 'delete the file (it is rebuilt from the endpoint) or point cacheFile elsewhere',
      });
    }
    for (const [key, value] of Object.entries(data.entries as Record<string, unknown>)) {
      if (value === null || isOptionLetter(value)) this.entries.set(key, value);
    }
  }
}
