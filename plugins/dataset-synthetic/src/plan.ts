import { OPTION_LETTERS, REGIONS, TASKS, type OptionLetter, type Region, type SeededRng, type Split, type Task } from '@medad/core';
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

/** Chunks a balanced stream of values into groups of four distinct values (one option list each). */
function optionLists(values: readonly string[], blocks: number, rng: SeededRng): Array<[string, string, string, string]> {
  const stream = balancedValues(values, blocks * 4 + values.length, rng);
  const lists: Array<[string, string, string, string]> = [];
  for (let b = 0; b < blocks; b++) {
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

type Draft = Omit<PlannedItem, 'index' | 'split'>;

function planTask(task: Task, count: number, rng: SeededRng): Draft[][] {
  const nb = Math.ceil(count / 4);
  const lists = optionLists(OPTION_SETS[task], nb, rng.fork('options'));
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
      const pathology = task === 'pathology_characterization' ? (answerText as Pathology) : pathologies[k]!;
      const region = task === 'lesion_localization' ? (answerText as Region) : regions[k]!;
      block.push({
        task,
        modality,
        anatomy,
        source: sourceOf(modality),
        scene: { modality, anatomy, ...lesionScene(finding, pick, pathology, region, task) },
        question: templates[b]!,
        options,
        answerText,
        letter: OPTION_LETTERS[slot]!,
        finding,
        block: `${task}/${b}`,
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
 * train/test, stratified by task and source.
 */
export function planBenchmark(n: number, rng: SeededRng): PlannedItem[] {
  const items: Array<Omit<PlannedItem, 'index'>> = [];
  TASKS.forEach((task, t) => {
    const count = Math.floor(n / TASKS.length) + (t < n % TASKS.length ? 1 : 0);
    const blocks = planTask(task, count, rng.fork(`task/${task}`));
    const splits = splitBlocks(blocks, rng.fork(`split/${task}`));
    blocks.forEach((block, b) => block.forEach((it) => items.push({ ...it, split: splits[b]! })));
  });
  return rng
    .fork('order')
    .shuffle(items)
    .map((it, index) => ({ ...it, index }));
}
