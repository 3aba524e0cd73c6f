import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, LoggerToken, MedadError, definePlugin, z, pathField } from '@medad/core';
import { JsonlDataset, formatIssue, loadDatasetDir, readDescriptor, readSamplesJsonl, SAMPLES_FILE } from '@medad/dataset';

/** Config of the `medad` dataset plugin. */
export const medadDatasetConfig = z.object({
  /** Directory holding the JSONL file and the images it references. */
  dir: pathField(z.string().min(1)),
  /** JSONL file inside `dir` (default: the one dataset.json names, else samples.jsonl). */
  file: z.string().min(1).optional(),
  /** Fail when any line is invalid instead of skipping (and reporting) it. */
  strict: z.boolean().default(false),
});

/** The MedAD loader's settings. */
export type MedadDatasetConfig = z.output<typeof medadDatasetConfig>;

/** How many bad lines are listed in a log line or error before "and N more". */
const LISTED = 10;

/** Opens a MedAD-38K-style directory, validating every line; bad lines are skipped and reported (or fatal when strict). */
export function openMedadDataset(config: MedadDatasetConfig, warn: (message: string) => void = () => {}): JsonlDataset {
  const root = resolve(config.dir);
  let loaded;
  if (config.file) {
    const file = join(root, config.file);
    if (!existsSync(file)) {
      throw new MedadError(ErrorCode.NotFound, `${file} does not exist`, { fix: `check "file" (relative to ${root})` });
    }
    const { samples, issues } = readSamplesJsonl(file);
    loaded = { root, descriptor: { ...readDescriptor(root), samplesFile: config.file }, samples, issues };
  } else {
    loaded = loadDatasetDir(root);
  }
  if (loaded.issues.length) {
    const lines = loaded.issues.slice(0, LISTED).map(formatIssue);
    const more = loaded.issues.length > LISTED ? ` and ${loaded.issues.length - LISTED} more` : '';
    if (config.strict) {
      throw new MedadError(ErrorCode.InvalidData, `${loaded.issues.length} problem(s) in ${config.file ?? loaded.descriptor.samplesFile ?? SAMPLES_FILE}: ${lines.join('; ')}${more}`, {
        fix: 'repair those lines (`medad data validate FILE` lists them all) or set strict: false to skip them',
        details: { issues: loaded.issues },
      });
    }
    warn(`skipped ${new Set(loaded.issues.map((i) => i.line)).size} bad line(s): ${lines.join('; ')}${more}`);
  }
  return new JsonlDataset(loaded);
}

/** MedAD-38K-style JSONL + images loader with per-line validation (`file:line field: problem`). */
export const medadDatasetPlugin = definePlugin({
  kind: 'dataset',
  id: 'medad',
  version: '0.1.0',
  description: 'MedAD-38K-style JSONL directory (validated line by line; imports from `medad data import`)',
  configSchema: medadDatasetConfig,
  create: (deps, config) => openMedadDataset(config, (m) => deps.tryResolve(LoggerToken)?.warn(m)),
});
