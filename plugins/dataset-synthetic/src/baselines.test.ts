import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBaselines, type BaselineTaskRow } from '@medad/dataset';
import { DEFAULT_SAMPLES, synthesize } from './synthesize.js';

/** The learnability / no-leakage thresholds of the issue, on the knobs-off benchmark (synthesize()'s default; seed 0, 2000 samples). */
const MIN_IMAGE_ONLY: Record<BaselineTaskRow['task'], number> = {
  modality_classification: 90,
  anatomy_identification: 90,
  anomaly_detection: 70,
  lesion_localization: 50,
  pathology_characterization: 50,
};

describe('knobs-off benchmark baselines', () => {
  it('image-only reaches the thresholds and text-only stays at chance on the test split', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'medad-default-')), 'bench');
    synthesize({ out: dir, samples: DEFAULT_SAMPLES, seed: 0 });
    const report = runBaselines(dir);
    assert.equal(report.rows.length, 5);
    for (const row of report.rows) {
      assert.equal(row.test, 120, row.task);
      assert.ok(row.imageOnly >= MIN_IMAGE_ONLY[row.task], `${row.task}: image-only ${row.imageOnly}%`);
      assert.ok(row.textOnly <= 32, `${row.task}: text-only ${row.textOnly}%`);
    }
  });
});
