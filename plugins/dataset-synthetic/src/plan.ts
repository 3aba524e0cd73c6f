import { OPTION_LETTERS, REGIONS, SeededRng, TASKS, type OptionLetter, type Region, type Split, type Task } from '@medad/core';
import {
  MODALITIES,
  OPTION_SETS,
  PATHOLOGIES,
  QUESTION_TEMPLATES,
  balancedValues,
  type Anatomy,
  type AnomalyFinding,
  type Modality,
  type Pathology,
} from '@medad/dataset';
import { MODALITY_ANATOMIES, modalitiesOf } from './catalog.js';
import { KNOBS_OFF, closeTo, targetClause, type DifficultyKnobs } from './difficulty.js';
import type { SceneSpec } from './scene.js';

/** Fraction of each (task, source) stratum that goes to the train split. */
export const TRAIN_FRACTION = 0.7;

/** One planned benchmark item: what to draw, what to ask, where the answer goes. */
export interface PlannedItem {
  index: number;
  task: Task;
  modality: Modality;
  anatomy: Anatomy;
  source: string;
  scene: SceneSpec;
  question: string;
  options: [string, string, string, string];
  /** The correct option's text. */
  answerText: string;
  letter: OptionLetter;
  finding: AnomalyFinding;
  split: Split;
  /** Items of one counterbalanced block share question and options and differ in answer. */
  block: string;
  /** Multi-lesion item (`multiLesion`): the image holds other lesions besides the first, which the question names. */
  multi?: boolean;
}

/** The `source` of a synthetic item: one pseudo source dataset per modality, as MedAD-38K pools many. */
export function sourceOf(modality: Modality): string {
  return `synthetic-${modality.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}

/** Lesion scale of the single lesion in anomaly-detection items: large enough to tell from anatomy at a glance. */
const ANOMALY_SINGLE_SCALE = 1.25;

function lesionScene(finding: AnomalyFinding, rng: SeededRng, pathology: Pathology, region: Region, task: Task): Pick<SceneSpec, 'lesions' | 'diffuse'> {
  switch (finding) {
    case 'No abnormality':
      return { lesions: [], diffuse: false };
    case 'A single focal lesion':
      return { lesions: [{ pathology, region, scale: task === 'anomaly_detection' ? ANOMALY_SINGLE_SCALE : 1 }], diffuse: false };
    case 'Multiple focal lesions':
      return { lesions: rng.shuffle(REGIONS).slice(0, 4).map((r) => ({ pathology, region: r, scale: 0.85 })), diffuse: false };
    case 'A diffuse abnormality':
      return { lesions: [], diffuse: true };
  }
}

/**
 * Chunks a balanced stream of values into groups of four distinct values (one option list each).
 * A block marked close takes instead a value from its own balanced stream and three of its
 * look-alikes ({@link closeTo}), in a seeded order; the relation is regular, so answer contents
 * stay uniform.
 */
function optionLists(task: Task, values: readonly string[], blocks: number, rng: SeededRng, close: readonly boolean[] = [], closeRng?: SeededRng): Array<[string, string, string, string]> {
  const stream = balancedValues(values, blocks * 4 + values.length, rng);
  const firsts = closeRng && close.some(Boolean) ? balancedValues(values, blocks, closeRng) : [];
  const lists: Array<[string, string, string, string]> = [];
  for (let b = 0; b < blocks; b++) {
    if (close[b]) {
      const v = firsts[b]!;
      lists.push(closeRng!.shuffle([v, ...closeRng!.shuffle(closeTo(task, v)).slice(0, 3)]) as [string, string, string, string]);
      continue;
    }
    const list: string[] = [];
    for (let i = 0; list.length < 4; i++) {
      const v = stream[i]!;
      if (!list.includes(v)) {
        list.push(v);
        stream.splice(i, 1);
        i--;
      }
    }
    lists.push(list as [string, string, string, string]);
  }
  return lists;
}

/** Per-lesion look (contrast, size, morph) drawn from the knob stream; only the knobs that are on set a field. */
function lesionLook(k: DifficultyKnobs, rng: SeededRng): { contrast?: number; morph?: number; size?: number } {
  const out: { contrast?: number; morph?: number; size?: number } = {};
  if (k.lesionContrast !== KNOBS_OFF.lesionContrast) out.contrast = rng.uniform(k.lesionContrast, 1);
  if (k.lesionSize !== KNOBS_OFF.lesionSize) out.size = rng.uniform(k.lesionSize, 1);
  if (k.lookAlike !== KNOBS_OFF.lookAlike) out.morph = rng.uniform(0, k.lookAlike / 2);
  return out;
}

function withLook(l: SceneSpec['lesions'][number], k: DifficultyKnobs, rng: SeededRng): SceneSpec['lesions'][number] {
  const { size, ...look } = lesionLook(k, rng);
  return { ...l, ...(size === undefined ? {} : { scale: (l.scale ?? 1) * size }), ...look };
}

/** The other lesions of a multi-lesion image: 1–2 of other types in other regions. */
function extraLesions(pathology: Pathology, region: Region, rng: SeededRng): SceneSpec['lesions'] {
  const types = rng.shuffle(PATHOLOGIES.filter((p) => p !== pathology));
  const places = rng.shuffle(REGIONS.filter((r) => r !== region));
  return Array.from({ length: 1 + rng.int(2) }, (_, i) => ({ pathology: types[i]!, region: places[i]! }));
}

type Draft = Omit<PlannedItem, 'index' | 'split'>;

function planTask(task: Task, count: number, rng: SeededRng, knobs: DifficultyKnobs, krng: SeededRng): Draft[][] {
  const nb = Math.ceil(count / 4);
  const closeRng = krng.fork('close');
  const close = Array.from({ length: nb }, () => knobs.closeOptions > 0 && closeTo(task, OPTION_SETS[task][0]!).length > 0 && closeRng.bernoulli(knobs.closeOptions));
  const lists = optionLists(task, OPTION_SETS[task], nb, rng.fork('options'), close, closeRng);
  const multiRng = krng.fork('multi');
  const lookRng = krng.fork('look');
  const multiTask = task === 'pathology_characterization' || task === 'lesion_localization';
  const templates = balancedValues(QUESTION_TEMPLATES[task], nb, rng.fork('templates'));
  const blockModality = balancedValues(MODALITIES, nb, rng.fork('modality'));
  const pathologies = balancedValues(PATHOLOGIES, count, rng.fork('pathology'));
  const regions = balancedValues(REGIONS, count, rng.fork('region'));
  const pick = rng.fork('pick');
  const blocks: Draft[][] = [];
  let k = 0;
  for (let b = 0; b < nb; b++) {
    const options = lists[b]!;
    const block: Draft[] = [];
    // a multi-lesion block names one target for all its items: a type (localization) or a region (pathology)
    const named = multiTask && knobs.multiLesion > 0 && multiRng.bernoulli(knobs.multiLesion) ? (task === 'lesion_localization' ? multiRng.pick(PATHOLOGIES) : multiRng.pick(REGIONS)) : undefined;
    for (let slot = 0; slot < 4 && k < count; slot++, k++) {
      const answerText = options[slot]!;
      let modality = blockModality[b]!;
      let anatomy: Anatomy;
      if (task === 'anatomy_identification') {
        anatomy = answerText as Anatomy;
        modality = pick.pick(modalitiesOf(anatomy));
      } else {
        if (task === 'modality_classification') modality = answerText as Modality;
        anatomy = pick.pick(MODALITY_ANATOMIES[modality]);
      }
      const finding: AnomalyFinding =
        task === 'anomaly_detection'
          ? (answerText as AnomalyFinding)
          : task === 'pathology_characterization' || task === 'lesion_localization' || pick.bernoulli(0.5)
            ? 'A single focal lesion'
            : 'No abnormality';
      let pathology = task === 'pathology_characterization' ? (answerText as Pathology) : pathologies[k]!;
      let region = task === 'lesion_localization' ? (answerText as Region) : regions[k]!;
      if (named !== undefined) {
        if (task === 'lesion_localization') pathology = named as Pathology;
        else region = named as Region;
      }
      const lesions = lesionScene(finding, pick, pathology, region, task);
      if (named !== undefined) lesions.lesions.push(...extraLesions(pathology, region, multiRng));
      if (knobs.lesionContrast !== KNOBS_OFF.lesionContrast || knobs.lesionSize !== KNOBS_OFF.lesionSize || knobs.lookAlike !== KNOBS_OFF.lookAlike) {
        lesions.lesions = lesions.lesions.map((l) => withLook(l, knobs, lookRng));
      }
      block.push({
        task,
        modality,
        anatomy,
        source: sourceOf(modality),
        scene: { modality, anatomy, ...lesions },
        question: named === undefined ? templates[b]! : templates[b]! + targetClause(task, named),
        options,
        answerText,
        letter: OPTION_LETTERS[slot]!,
        finding,
        block: `${task}/${b}`,
        ...(named === undefined ? {} : { multi: true }),
      });
    }
    blocks.push(block);
  }
  return blocks;
}

/**
 * Assigns whole blocks to train or test: round(70%) of each task's blocks go to train, chosen
 * greedily (in seeded order) to keep every source's train share near 70% — a split stratified by
 * task exactly and by source as closely as whole blocks allow.
 */
function splitBlocks(blocks: Draft[][], rng: SeededRng): Split[] {
  const order = rng.shuffle(blocks.map((_, i) => i));
  const nTrain = Math.round(blocks.length * TRAIN_FRACTION);
  const train = new Map<string, number>();
  const seen = new Map<string, number>();
  const out = new Array<Split>(blocks.length);
  let trainLeft = nTrain;
  order.forEach((b, pos) => {
    const remaining = blocks.length - pos;
    const counts = new Map<string, number>();
    for (const it of blocks[b]!) counts.set(it.source, (counts.get(it.source) ?? 0) + 1);
    const cost = (toTrain: boolean) => {
      let c = 0;
      for (const [s, n] of counts) c += ((train.get(s) ?? 0) + (toTrain ? n : 0) - TRAIN_FRACTION * ((seen.get(s) ?? 0) + n)) ** 2;
      return c;
    };
    let toTrain: boolean;
    if (trainLeft === 0) toTrain = false;
    else if (trainLeft === remaining) toTrain = true;
    else toTrain = cost(true) < cost(false) || (cost(true) === cost(false) && rng.bernoulli(TRAIN_FRACTION));
    if (toTrain) trainLeft--;
    for (const [s, n] of counts) {
      seen.set(s, (seen.get(s) ?? 0) + n);
      if (toTrain) train.set(s, (train.get(s) ?? 0) + n);
    }
    out[b] = toTrain ? 'train' : 'test';
  });
  return out;
}

/**
 * Plans `n` items in counterbalanced blocks: the items of a block share one question paraphrase
 * and one option list (in one order) and take each of its four options as the answer once, so no
 * function of the text can score above chance. Tasks are balanced, answer contents uniform,
 * modality–anatomy pairs plausible, answer letters balanced, and whole blocks go 70/30 to
 * train/test, stratified by task and source. Difficulty knobs (off by default) draw only from
 * `knobRng`, so with every knob off the plan is generator 1.1.0's.
 */
export function planBenchmark(n: number, rng: SeededRng, knobs: DifficultyKnobs = KNOBS_OFF, knobRng: SeededRng = new SeededRng('synthetic/knobs')): PlannedItem[] {
  const items: Array<Omit<PlannedItem, 'index'>> = [];
  TASKS.forEach((task, t) => {
    const count = Math.floor(n / TASKS.length) + (t < n % TASKS.length ? 1 : 0);
    const blocks = planTask(task, count, rng.fork(`task/${task}`), knobs, knobRng.fork(`task/${task}`));
    const splits = splitBlocks(blocks, rng.fork(`split/${task}`));
    blocks.forEach((block, b) => block.forEach((it) => items.push({ ...it, split: splits[b]! })));
  });
  return rng
    .fork('order')
    .shuffle(items)
    .map((it, index) => ({ ...it, index }));
}
