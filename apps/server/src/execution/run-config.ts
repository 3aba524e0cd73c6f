/**
 * What a run is stored with (`runs.config`): its run spec (DESIGN.md §3, `@medad/core` runspec),
 * the single source of truth the child `medad run` executes. Paths that point at another run's
 * output are stored as `run:<id>` references and resolved when the run launches (run-commands.ts).
 */
export type { ConGrpoSpec, DatasetSpec, EvalSpec, RunSpec, SftSpec } from '@medad/core';
