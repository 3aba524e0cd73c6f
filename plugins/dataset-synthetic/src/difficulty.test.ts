import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SeededRng, TASKS, letterIndex, type MedAdSample, type Task } from '@medad/core';
import { ANOMALY_EVIDENCE, MODALITY_EVIDENCE, OPTION_SETS, PATHOLOGIES, PATHOLOGY_EVIDENCE, REGION_EVIDENCE, readDescriptor, regionOfBBox, type Pathology } from '@medad/dataset';
import { DEFAULT_KNOBS, INCOMPLETE_EVIDENCE, KNOBS_OFF, KNOB_NAMES, REGION_PLACE, closeTo, resolveKnobs, type DifficultyKnobs } from './difficulty.js';
import { planBenchmark, type PlannedItem } from './plan.js';
import { renderScene, type SceneSpec } from './scene.js';
import { synthesize, syntheticId } from './synthesize.js';

const tmp = mkdtempSync(join(tmpdir(), 'medad-knobs-'));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function digest(dir: string): { samples: string; images: string } {
  const h = createHash('sha256');
  for (const f of readdirSync(join(dir, 'images')).sort()) h.update(readFileSync(join(dir, 'images', f)));
  return { samples: sha(readFileSync(join(dir, 'samples.jsonl'))), images: h.digest('hex') };
}

function read(dir: string): MedAdSample[] {
  return readFileSync(join(dir, 'samples.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MedAdSample);
}

function wordIn(text: string, phrase: string): boolean {
  const esc = phrase.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![a-z0-9-])${esc}(?![a-z0-9-])`).test(text.toLowerCase());
}

const plan = (n: number, knobs: Partial<DifficultyKnobs>, seed = 0) => planBenchmark(n, new SeededRng(`synthetic/${seed}/plan`), resolveKnobs(knobs), new SeededRng(`synthetic/${seed}/knobs`));

/** The findings a wrong CoT states for the option it points to (tasks whose findings do not depend on the view). */
const WRONG_EVIDENCE: Partial<Record<Task, Record<string, string>>> = {
  modality_classification: MODALITY_EVIDENCE,
  anomaly_detection: ANOMALY_EVIDENCE,
  pathology_characterization: PATHOLOGY_EVIDENCE,
  lesion_localization: REGION_EVIDENCE,
};

/** A knob value that is on, per knob. */
const ON: DifficultyKnobs = { lesionContrast: 0.4, lesionSize: 0.5, lookAlike: 1, multiLesion: 0.5, closeOptions: 0.5, cotNoise: 0.3 };

describe('difficulty knobs off', () => {
  it('reproduce generator 1.1.0 byte for byte (hashes measured before the knobs existed)', () => {
    // seed 11, 60 samples, generator 1.1.0 at commit 71cb084
    const before = { samples: 'f475f7379874d8b83a6dcf224a8c3b1208f2d0a1009f0d76b450f193385d91e9', images: '5d0f62d0d1210e5542d1b7521e046b22a90a8fd09e62da08a926eebbe6112115' };
    const a = synthesize({ out: join(tmp, 'off-a'), samples: 60, seed: 11 });
    const b = synthesize({ out: join(tmp, 'off-b'), samples: 60, seed: 11, knobs: { ...KNOBS_OFF } });
    assert.deepEqual(digest(a.dir), before);
    assert.deepEqual(digest(b.dir), before);
    assert.equal(a.id, 'synthetic-s11-n60');
    assert.deepEqual(
      KNOB_NAMES.map((k) => readDescriptor(a.dir).provenance?.[k]),
      KNOB_NAMES.map((k) => KNOBS_OFF[k]),
    );
  });

  it('refuse values outside their range, naming the knob and the range', () => {
    assert.throws(() => resolveKnobs({ lesionContrast: 0 }), /lesionContrast must be a number from 0.1 to 1, got 0/);
    assert.throws(() => resolveKnobs({ cotNoise: 1.5 }), /cotNoise must be a number from 0 to 1, got 1.5/);
  });
});

describe('the default regime (DEFAULT_KNOBS)', () => {
  it('never names an option in the question; four distinct options, one correct; letters balanced in every task and split', () => {
    const items = plan(2000, DEFAULT_KNOBS);
    for (const p of items) {
      assert.equal(new Set(p.options).size, 4);
      assert.equal(p.options.filter((o) => o === p.answerText).length, 1);
      for (const o of p.options) assert.equal(wordIn(p.question, o), false, `${p.question} / ${o}`);
    }
    for (const task of TASKS)
      for (const split of ['train', 'test'] as const) {
        const part = items.filter((p) => p.task === task && p.split === split);
        const counts = ['A', 'B', 'C', 'D'].map((l) => part.filter((p) => p.letter === l).length);
        assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${task}/${split}: ${counts}`);
      }
    assert.ok(items.some((p) => p.multi) && items.some((p) => p.scene.lesions.some((l) => l.contrast !== undefined && l.morph !== undefined)));
  });
});

describe('each knob', () => {
  const off = synthesize({ out: join(tmp, 'base'), samples: 40, seed: 5 });
  const offDigest = digest(off.dir);
  for (const knob of KNOB_NAMES) {
    it(`${knob}: same seed and value ⇒ same bytes; changes ${knob === 'cotNoise' ? 'only the CoTs' : 'the benchmark'}; recorded in provenance and the id`, () => {
      const knobs = { [knob]: ON[knob] };
      const a = synthesize({ out: join(tmp, `${knob}-a`), samples: 40, seed: 5, knobs });
      const b = synthesize({ out: join(tmp, `${knob}-b`), samples: 40, seed: 5, knobs });
      const da = digest(a.dir);
      assert.deepEqual(digest(b.dir), da);
      assert.equal(readFileSync(join(a.dir, 'dataset.json'), 'utf8'), readFileSync(join(b.dir, 'dataset.json'), 'utf8'));
      assert.notEqual(da.samples, offDigest.samples);
      if (knob === 'cotNoise') assert.equal(da.images, offDigest.images);
      else if (knob !== 'closeOptions') assert.notEqual(da.images, offDigest.images);
      assert.equal(readDescriptor(a.dir).provenance?.[knob], ON[knob]);
      assert.notEqual(a.id, off.id);
      assert.equal(a.id, syntheticId(5, 40, 64, false, 'text-first', knobs));
      assert.match(a.id, new RegExp(`-[a-z]{2}${ON[knob]}$`));
    });
  }
});

/** Mean absolute difference between an image with a lesion and the same image without it, over the lesion's box. */
function lesionGap(spec: SceneSpec, seed: string): number {
  const side = 64;
  const withLesion = renderScene(spec, side, new SeededRng(seed));
  const without = renderScene({ ...spec, lesions: [] }, side, new SeededRng(seed));
  const { x, y, width, height } = withLesion.lesions[0]!.bbox;
  let sum = 0;
  for (let yy = y; yy < y + height; yy++) for (let xx = x; xx < x + width; xx++) for (let c = 0; c < 3; c++) sum += Math.abs(withLesion.image.data[(yy * side + xx) * 3 + c]! - without.image.data[(yy * side + xx) * 3 + c]!);
  return sum / (width * height * 3);
}

describe('lesionContrast', () => {
  it('scales the lesion/background intensity gap measured on the image', () => {
    const gaps = [1, 0.6, 0.3].map((contrast) => {
      let g = 0;
      PATHOLOGIES.forEach((pathology, i) => (g += lesionGap({ modality: 'CT', anatomy: 'Liver', lesions: [{ pathology, region: 'Center', contrast }], diffuse: false }, `gap/${i}`)));
      return g / PATHOLOGIES.length;
    });
    assert.ok(gaps[0]! > 40, `full-contrast gap ${gaps[0]}`);
    assert.ok(Math.abs(gaps[1]! / gaps[0]! - 0.6) < 0.05, `gap ratio at 0.6: ${gaps[1]! / gaps[0]!}`);
    assert.ok(Math.abs(gaps[2]! / gaps[0]! - 0.3) < 0.05, `gap ratio at 0.3: ${gaps[2]! / gaps[0]!}`);
  });

  it('draws each lesion contrast from [lesionContrast, 1]', () => {
    const lesions = plan(500, { lesionContrast: 0.4 }).flatMap((p) => p.scene.lesions);
    assert.ok(lesions.length > 200);
    assert.ok(lesions.every((l) => l.contrast! >= 0.4 && l.contrast! < 1));
    const mean = lesions.reduce((s, l) => s + l.contrast!, 0) / lesions.length;
    assert.ok(Math.abs(mean - 0.7) < 0.03, `mean contrast ${mean}`);
  });
});

describe('lesionSize', () => {
  it('shrinks the drawn lesions by the drawn factor', () => {
    const area = (items: PlannedItem[]) => {
      let sum = 0;
      let n = 0;
      for (const it of items.filter((p) => p.task === 'lesion_localization').slice(0, 40)) {
        const s = renderScene(it.scene, 64, new SeededRng(`size/${it.index}`));
        sum += s.lesions[0]!.radius;
        n++;
      }
      return sum / n;
    };
    const full = area(plan(400, {}));
    const small = area(plan(400, { lesionSize: 0.5 }));
    // factors are uniform on [0.5, 1]: the mean radius shrinks by about 0.75
    assert.ok(Math.abs(small / full - 0.75) < 0.06, `radius ratio ${small / full}`);
  });
});

describe('lookAlike', () => {
  /** Pixels inside the lesion box clearly brighter than the lesion-free image. */
  const brightPixels = (pathology: Pathology, morph: number) => {
    let n = 0;
    for (let i = 0; i < 8; i++) {
      const spec: SceneSpec = { modality: 'CT', anatomy: 'Liver', lesions: [{ pathology, region: 'Center', morph }], diffuse: false };
      const a = renderScene(spec, 64, new SeededRng(`morph/${i}`));
      const b = renderScene({ ...spec, lesions: [] }, 64, new SeededRng(`morph/${i}`));
      const { x, y, width, height } = a.lesions[0]!.bbox;
      for (let yy = y; yy < y + height; yy++) for (let xx = x; xx < x + width; xx++) if (a.image.data[(yy * 64 + xx) * 3]! - b.image.data[(yy * 64 + xx) * 3]! > 60) n++;
    }
    return n;
  };

  it('moves a lesion towards its look-alike: a cyst rim thickens towards an abscess ring, calcification dots merge towards a mass', () => {
    const [cyst, half, abscess] = [brightPixels('Cyst', 0), brightPixels('Cyst', 0.5), brightPixels('Abscess', 0)];
    assert.ok(cyst < half && half < abscess, `cyst ${cyst}, halfway ${half}, abscess ${abscess}`);
    const [dots, merged, benign] = [brightPixels('Calcification', 0), brightPixels('Calcification', 0.5), brightPixels('Benign tumor', 0)];
    assert.ok(dots < merged && merged < benign, `calcification ${dots}, halfway ${merged}, benign ${benign}`);
  });

  it('draws each lesion morph from [0, lookAlike / 2]', () => {
    const lesions = plan(500, { lookAlike: 0.6 }).flatMap((p) => p.scene.lesions);
    assert.ok(lesions.every((l) => l.morph! >= 0 && l.morph! < 0.3));
    const mean = lesions.reduce((s, l) => s + l.morph!, 0) / lesions.length;
    assert.ok(Math.abs(mean - 0.15) < 0.015, `mean morph ${mean}`);
  });
});

describe('multiLesion', () => {
  const dir = synthesize({ out: join(tmp, 'multi'), samples: 400, seed: 2, knobs: { multiLesion: 1 } }).dir;
  const samples = read(dir);

  it('puts 1-2 other lesions in every pathology and localization image; the question names the target, never the answer', () => {
    const targeted = samples.filter((s) => s.task === 'pathology_characterization' || s.task === 'lesion_localization');
    assert.equal(targeted.length, 160);
    for (const s of targeted) {
      const lesions = (s.meta!.lesions as Array<{ pathology: Pathology; region: string; bbox: { x: number; y: number; width: number; height: number } }>);
      const target = lesions[0]!;
      assert.ok(lesions.length === 2 || lesions.length === 3, s.id);
      assert.equal(new Set(lesions.map((l) => l.region)).size, lesions.length, `${s.id}: two lesions in one region`);
      assert.ok(lesions.slice(1).every((l) => l.pathology !== target.pathology), s.id);
      const answer = s.options[letterIndex(s.answer)]!;
      if (s.task === 'lesion_localization') {
        assert.equal(target.region, answer);
        assert.ok(s.question.endsWith(`answer about the ${target.pathology.toLowerCase()}.`), s.question);
        assert.ok(s.cot.includes(`the ${target.pathology.toLowerCase()} is ${REGION_EVIDENCE[target.region as 'Center']}`), s.cot);
      } else {
        assert.equal(target.pathology, answer);
        assert.ok(s.question.endsWith(`answer about the one ${REGION_PLACE[target.region as 'Center']}.`), s.question);
        assert.ok(s.cot.includes(PATHOLOGY_EVIDENCE[target.pathology]), s.cot);
      }
      assert.equal(s.region, target.region);
      assert.deepEqual(s.bbox, target.bbox);
      assert.equal(regionOfBBox(s.bbox!, 64, 64), s.region);
      for (const o of s.options) assert.equal(wordIn(s.question, o), false, `${s.question} names ${o}`);
    }
  });

  it('keeps blocks counterbalanced: one question and option list per block, every option the answer once', () => {
    const blocks = new Map<string, MedAdSample[]>();
    for (const s of samples) blocks.set(String(s.meta!.block), [...(blocks.get(String(s.meta!.block)) ?? []), s]);
    for (const [id, items] of blocks) {
      assert.ok(items.every((s) => s.question === items[0]!.question && s.options.join('|') === items[0]!.options.join('|')), id);
      assert.equal(new Set(items.map((s) => s.answer)).size, items.length, id);
    }
  });

  it('applies to the given fraction of blocks', () => {
    const items = plan(4000, { multiLesion: 0.3 }).filter((p) => p.task === 'lesion_localization' || p.task === 'pathology_characterization');
    const frac = items.filter((p) => p.multi).length / items.length;
    assert.ok(Math.abs(frac - 0.3) < 0.05, `multi fraction ${frac}`);
  });
});

describe('closeOptions', () => {
  /** Some option has the other three among its look-alikes. */
  const alike = (p: PlannedItem) => p.options.some((o) => p.options.every((x) => x === o || closeTo(p.task, x).includes(o)));

  it('draws a block of look-alike options from its first option’s groups; options stay distinct and answers near uniform', () => {
    const items = plan(4000, { closeOptions: 1 });
    for (const p of items) {
      assert.equal(new Set(p.options).size, 4, p.options.join('|'));
      assert.equal(p.options.filter((o) => o === p.answerText).length, 1);
      for (const o of p.options) assert.ok(OPTION_SETS[p.task].includes(o));
      if (p.task === 'modality_classification' || p.task === 'anatomy_identification' || p.task === 'pathology_characterization') {
        assert.ok(alike(p), `${p.task}: ${p.options.join('|')}`);
      }
    }
    for (const task of TASKS) {
      const mine = items.filter((p) => p.task === task);
      for (const v of OPTION_SETS[task]) {
        const share = mine.filter((p) => p.answerText === v).length / mine.length;
        assert.ok(Math.abs(share - 1 / OPTION_SETS[task].length) < 0.06, `${task}/${v}: ${share}`);
      }
    }
    const half = plan(4000, { closeOptions: 0.5 }).filter((p) => p.task === 'pathology_characterization');
    const far = half.filter((p) => !alike(p)).length / half.length;
    assert.ok(far > 0.1 && far < 0.5, `blocks with a far option at closeOptions 0.5: ${far}`);
  });
});

describe('cotNoise', () => {
  const clean = read(synthesize({ out: join(tmp, 'noise-0'), samples: 1000, seed: 4 }).dir);
  const noisy = read(synthesize({ out: join(tmp, 'noise-3'), samples: 1000, seed: 4, knobs: { cotNoise: 0.3 } }).dir);

  it('alters the findings of that fraction of train CoTs, half incomplete and half wrong; test CoTs never', () => {
    const train = noisy.filter((s) => s.split === 'train');
    const altered = train.filter((s) => s.meta!.cotNoise);
    assert.ok(Math.abs(altered.length / train.length - 0.3) < 0.04, `noisy fraction ${altered.length / train.length}`);
    const incomplete = altered.filter((s) => s.meta!.cotNoise === 'incomplete').length / altered.length;
    assert.ok(incomplete > 0.4 && incomplete < 0.6, `incomplete share ${incomplete}`);
    assert.equal(noisy.filter((s) => s.split === 'test' && s.meta!.cotNoise).length, 0);
    let wrongChecked = 0;
    noisy.forEach((s, i) => {
      const c = clean[i]!;
      assert.equal(s.image, c.image);
      assert.equal(s.question, c.question);
      assert.equal(s.answer, c.answer);
      if (!s.meta!.cotNoise) return assert.equal(s.cot, c.cot);
      assert.notEqual(s.cot, c.cot);
      const answer = s.options[letterIndex(s.answer)]!;
      assert.ok(s.cot.endsWith(`the answer is ${answer} (${s.answer}).`), s.cot);
      if (s.meta!.cotNoise === 'incomplete') assert.ok(s.cot.includes(INCOMPLETE_EVIDENCE[s.task]), s.cot);
      else {
        const other = String(s.meta!.cotNoiseOption);
        assert.ok(s.options.includes(other) && other !== answer, other);
        const evidence = WRONG_EVIDENCE[s.task]?.[other];
        if (evidence) assert.ok(s.cot.includes(evidence), `${s.cot} lacks the findings of ${other}`);
        wrongChecked += evidence ? 1 : 0;
      }
    });
    assert.ok(wrongChecked > 40, `wrong CoTs checked: ${wrongChecked}`);
  });
});
