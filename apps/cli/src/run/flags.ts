import { InvalidArgumentError, Option, type Command } from 'commander';
import { TASKS, z } from '@medad/core';

/** `lr` → `--lr`, `batchSize` → `--batch-size`. */
export function flagName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `batch-size` → `batchSize` (commander's attribute name). */
function attributeName(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Strips defaults and optionality to the schema that describes the value. */
function inner(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else return s;
  }
}

function parseNumber(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`"${raw}" is not a number.`);
  return n;
}

/** `task=weight,task=weight` for record fields (e.g. --task-weights). */
function parseRecord(raw: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of raw.split(',')) {
    const [k, v] = part.split('=');
    if (!k?.trim() || v === undefined) throw new InvalidArgumentError(`"${part}" is not key=value (e.g. ${TASKS[0]}=0.5).`);
    out[k.trim()] = parseNumber(v);
  }
  return out;
}

/** A flag's parser and help for one schema field, or undefined when the field has no flag form. */
function flagFor(field: string, schema: z.ZodType, fallback: unknown): Option | undefined {
  const s = inner(schema);
  const description = `${schema.description ?? s.description ?? field}${fallback === undefined ? '' : ` (default: ${typeof fallback === 'string' ? fallback : JSON.stringify(fallback)})`}`;
  const flag = flagName(field);
  if (s instanceof z.ZodBoolean) return new Option(`--${flag} <on>`, `${description} (true|false)`).choices(['true', 'false']).argParser((v) => v === 'true');
  if (s instanceof z.ZodEnum) return new Option(`--${flag} <value>`, description).choices(s.options.map(String));
  if (s instanceof z.ZodNumber) return new Option(`--${flag} <n>`, description).argParser(parseNumber);
  if (s instanceof z.ZodUnion) return new Option(`--${flag} <value>`, description).argParser((v) => (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v));
  if (s instanceof z.ZodRecord) return new Option(`--${flag} <key=value,...>`, description).argParser(parseRecord);
  if (s instanceof z.ZodString) return new Option(`--${flag} <value>`, description);
  return undefined;
}

/**
 * Adds one flag per field of a spec section (`hyper`, `compute`): the flag, its help and its
 * default come from the schema, so a knob added to the schema is a flag without touching the CLI.
 * Defaults are shown in help but not set, so only the flags given reach the spec.
 */
export function addSectionFlags(cmd: Command, section: z.ZodObject, skip: readonly string[] = []): Command {
  const defaults = section.parse({}) as Record<string, unknown>;
  for (const [field, schema] of Object.entries(section.shape)) {
    if (skip.includes(field)) continue;
    const option = flagFor(field, schema as z.ZodType, defaults[field]);
    if (option) cmd.addOption(option);
  }
  return cmd;
}

/** The values of a section's flags that were given on the command line. */
export function sectionValues(opts: Record<string, unknown>, section: z.ZodObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of Object.keys(section.shape)) {
    const v = opts[attributeName(flagName(field))];
    if (v !== undefined) out[field] = v;
  }
  return out;
}
