import { ErrorCode, MedadError } from './errors.js';
import { TASKS, type Task } from './domain.js';

/** Relative sampling weight per task (absent tasks weigh 1). */
export type TaskWeights = Partial<Record<Task, number>>;

/** Parses `task=weight,task=weight` (e.g. `anatomy_identification=0.3,modality_classification=0.3`). */
export function parseTaskWeights(spec: string): TaskWeights {
  const out: TaskWeights = {};
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value, extra] = part.split('=').map((s) => s.trim());
    if (!name || value === undefined || extra !== undefined) {
      throw new MedadError(ErrorCode.BadUserInput, `task weight "${part}" is not task=weight`, { fix: 'write e.g. anatomy_identification=0.3,modality_classification=0.3' });
    }
    out[name as Task] = Number(value);
  }
  return validateTaskWeights(out);
}

/** Checks that every key is a task and every weight a positive finite number; returns the weights. */
export function validateTaskWeights(weights: TaskWeights): TaskWeights {
  for (const [name, w] of Object.entries(weights)) {
    if (!(TASKS as readonly string[]).includes(name)) {
      throw new MedadError(ErrorCode.BadUserInput, `task weight for unknown task "${name}"`, { fix: `use one of: ${TASKS.join(', ')}` });
    }
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) {
      throw new MedadError(ErrorCode.BadUserInput, `task weight of ${name} must be a positive number, got ${JSON.stringify(w)}`, {
        fix: 'give every listed task a weight > 0 (leave a task out to keep weight 1)',
      });
    }
  }
  return weights;
}
