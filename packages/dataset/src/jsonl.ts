import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, MedadError, errorMessage, type MedAdSample } from '@medad/core';
import { validateSample } from './schema.js';

/** One bad JSONL line (or field of it): `file:line field: problem`. */
export interface JsonlIssue {
  file: string;
  /** 1-based line number. */
  line: number;
  field: string;
  problem: string;
}

/** Formats an issue as `file:line field: problem`. */
export function formatIssue(issue: JsonlIssue): string {
  return `${issue.file}:${issue.line} ${issue.field}: ${issue.problem}`;
}

/** Result of reading a JSONL file: the good samples (in file order) and one issue per bad field. */
export interface JsonlReadResult {
  samples: MedAdSample[];
  issues: JsonlIssue[];
  /** Number of non-blank lines read. */
  lines: number;
  /** Number of lines skipped because they had at least one issue. */
  skipped: number;
}

/** Parses JSONL text; every bad line is reported and skipped, every good line kept. */
export function parseSamplesJsonl(text: string, file: string): JsonlReadResult {
  const samples: MedAdSample[] = [];
  const issues: JsonlIssue[] = [];
  const firstLineOfId = new Map<string, number>();
  let lines = 0;
  let skipped = 0;
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]!.trim();
    if (!raw) continue;
    lines++;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      issues.push({ file, line, field: '(line)', problem: `not valid JSON (${errorMessage(err)})` });
      skipped++;
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ file, line, field: '(line)', problem: 'must be a JSON object, one sample per line' });
      skipped++;
      continue;
    }
    const result = validateSample(value);
    if (!result.ok) {
      for (const issue of result.issues) issues.push({ file, line, ...issue });
      skipped++;
      continue;
    }
    const seen = firstLineOfId.get(result.sample.id);
    if (seen !== undefined) {
      issues.push({ file, line, field: 'id', problem: `duplicate id "${result.sample.id}" (first on line ${seen})` });
      skipped++;
      continue;
    }
    firstLineOfId.set(result.sample.id, line);
    samples.push(result.sample);
  }
  return { samples, issues, lines, skipped };
}

/** Reads a JSONL file of samples; bad lines are reported, good ones kept. */
export function readSamplesJsonl(file: string): JsonlReadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MedadError(ErrorCode.NotFound, `Cannot read ${file}: ${errorMessage(err)}`, {
      cause: err,
      fix: 'check the path; a dataset directory holds samples.jsonl',
    });
  }
  return parseSamplesJsonl(text, file);
}

/** Serializes samples as JSONL (one object per line, trailing newline); rejects invalid samples. */
export function formatSamplesJsonl(samples: readonly MedAdSample[]): string {
  const out: string[] = [];
  samples.forEach((s, i) => {
    const result = validateSample(s);
    if (!result.ok) {
      const what = result.issues.map((x) => `${x.field}: ${x.problem}`).join('; ');
      throw new MedadError(ErrorCode.InvalidData, `Sample ${i} (${String(s.id)}) is invalid: ${what}`, {
        fix: 'correct the sample before writing it',
      });
    }
    out.push(JSON.stringify(s));
  });
  return out.length ? out.join('\n') + '\n' : '';
}

/** Writes samples as a JSONL file, creating the directory. */
export function writeSamplesJsonl(file: string, samples: readonly MedAdSample[]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, formatSamplesJsonl(samples));
}
