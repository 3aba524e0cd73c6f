import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { inject, injectable } from 'tsyringe';
import { ErrorCode, MedadError } from '@medad/core';
import { RunKind, type EvaluationRecord, type MetricRow, type RunRecord } from '../domain.js';
import { EventBus, isFinalStatus, type StatusChange } from '../execution/event-bus.js';
import { merge } from '../execution/merge.js';
import type { GraphQLContext } from '../graphql/context.js';
import { KeyBatcher } from '../graphql/key-batcher.js';
import { StoreToken } from '../graphql/tokens.js';
import { MetricWriter } from '../store/metric-writer.js';
import type { Store } from '../store/store.js';
import { toEvaluation } from './evaluation.js';
import { BuildDatasetInput, ConGrpoRunInput, EvaluationInput, RunFilter, SftRunInput } from './run.input.js';
import { RunService } from './run.service.js';
import { Checkpoint, CompletionConnection, Evaluation, MetricPoint, PairedDifferenceType, PredictionConnection, RunConnection, RunEventEntry, RunStatusChange, RunType } from './run.type.js';
import { pairedEvaluationDifference, runCompletions, runPredictions } from './predictions.js';

type Ctx = SubscribeResolverData<unknown, Record<string, unknown>, GraphQLContext>;

/**
 * Live metrics of a run: first the stored rows from `fromStep` (when given), then new rows as
 * they arrive; ends once the run reaches a final status. Returning (the client left) releases the
 * bus subscriptions at once, not at the run's next row: an async generator waiting for a value
 * would take `return()` only after it, so the bus iterators are ended first.
 */
function metricStream(data: Ctx): AsyncIterableIterator<MetricRow> {
  const bus = data.context.container.resolve(EventBus);
  const runId = String(data.args.runId);
  const metrics = bus.subscribe('metrics', runId);
  const status = bus.subscribe('status', runId);
  const rows = metricRows(data, merge(metrics, status));
  return {
    next: () => rows.next(),
    return: async () => {
      await Promise.all([metrics.return?.(), status.return?.()]);
      await rows.return(undefined);
      return { value: undefined, done: true };
    },
    throw: async (err: unknown) => {
      await Promise.all([metrics.return?.(), status.return?.()]);
      return rows.throw(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* metricRows({ args, context }: Ctx, live: AsyncGenerator<{ from: 'a'; value: MetricRow } | { from: 'b'; value: StatusChange }>): AsyncGenerator<MetricRow> {
  const runId = String(args.runId);
  const store = context.container.resolve<Store>(StoreToken);
  try {
    const run = await store.getRun(runId);
    if (!run) return;
    let last = -Infinity;
    if (typeof args.fromStep === 'number') {
      // Rows already published (so not on `live`) may still sit in the writer's batch: store them first.
      if (context.container.isRegistered(MetricWriter, true)) await context.container.resolve(MetricWriter).flush();
      for (const row of await store.metrics(runId)) {
        if (row.step < args.fromStep) continue;
        last = row.step;
        yield row;
      }
    }
    if (isFinalStatus(run.status)) return;
    for await (const item of live) {
      if (item.from === 'b') {
        if (isFinalStatus(item.value.status)) return;
        continue;
      }
      if (item.value.step <= last) continue; // already replayed from the store
      yield item.value;
    }
  } finally {
    await live.return(undefined);
  }
}

/** A cursor page over rows that carry their file position (`index`): at most 500, after a cursor. */
function pageByIndex<R extends { index: number }, N>(all: R[], first: number, after: string | null | undefined, field: string, node: (r: R) => N) {
  if (!Number.isInteger(first) || first < 1 || first > 500) {
    throw new MedadError(ErrorCode.BadUserInput, `${field}(first: ${first}) must be between 1 and 500`, { fix: 'page with first ≤ 500 and after' });
  }
  const from = after === undefined || after === null ? 0 : Number(after) + 1;
  if (!Number.isInteger(from) || from < 0) throw new MedadError(ErrorCode.BadUserInput, `after ${JSON.stringify(after)} is not a ${field} cursor`, { fix: 'pass an endCursor from a previous page' });
  const start = all.findIndex((r) => r.index >= from);
  const page = start < 0 ? [] : all.slice(start, start + first);
  const edges = page.map((r) => ({ cursor: String(r.index), node: node(r) }));
  return {
    totalCount: all.length,
    edges,
    pageInfo: { hasNextPage: start >= 0 && start + first < all.length, hasPreviousPage: start > 0, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

/** One metric-count batcher per request context (a run list asks for every run's count at once). */
const metricCountBatchers = new WeakMap<GraphQLContext, KeyBatcher<number>>();
const lastMetricBatchers = new WeakMap<GraphQLContext, KeyBatcher<MetricRow | null>>();
const evaluationBatchers = new WeakMap<GraphQLContext, KeyBatcher<EvaluationRecord | null>>();

/** The context's batcher of `kind` (one query per response for a field asked of every run in a list). */
function batcher<V>(map: WeakMap<GraphQLContext, KeyBatcher<V>>, context: GraphQLContext, load: (ids: readonly string[]) => Promise<Map<string, V>>, missing: V): KeyBatcher<V> {
  let b = map.get(context);
  if (!b) map.set(context, (b = new KeyBatcher(load, missing)));
  return b;
}

/** Runs: queries, mutations, per-run fields and subscriptions. */
@injectable()
@Resolver(() => RunType)
export class RunResolver {
  constructor(
    private readonly service: RunService,
    @inject(StoreToken) private readonly store: Store,
  ) {}

  @Query(() => RunConnection, { description: 'Runs, newest first (Relay connection).' })
  async runs(
    @Arg('filter', () => RunFilter, { nullable: true }) filter: RunFilter | undefined,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
  ): Promise<RunConnection> {
    const page = await this.service.list(filter, first, after ?? undefined);
    return {
      edges: page.edges,
      totalCount: page.totalCount,
      pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: false, startCursor: page.edges[0]?.cursor ?? null, endCursor: page.edges.at(-1)?.cursor ?? null },
    };
  }

  @Query(() => RunType, { nullable: true })
  run(@Arg('id', () => ID) id: string): Promise<RunRecord | undefined> {
    return this.service.get(id);
  }

  @FieldResolver(() => Int, { nullable: true, description: 'Wall time of the last attempt (so far, while running), in ms.' })
  durationMs(@Root() run: RunRecord): number | null {
    if (!run.startedAt) return null;
    return (run.finishedAt ?? new Date()).getTime() - run.startedAt.getTime();
  }

  @FieldResolver(() => [Checkpoint])
  checkpoints(@Root() run: RunRecord): Promise<Checkpoint[]> {
    return this.store.checkpoints(run.id);
  }

  @FieldResolver(() => [MetricPoint], { description: 'Metric rows in step order: at most `downsample` evenly spaced rows (first and last kept); default 2000, at most 10000.' })
  metrics(@Root() run: RunRecord, @Arg('downsample', () => Int, { nullable: true }) downsample?: number): Promise<MetricRow[]> {
    return this.service.metrics(run.id, downsample ?? undefined);
  }

  @FieldResolver(() => Int)
  metricCount(@Root() run: RunRecord, @Ctx() context: GraphQLContext): Promise<number> {
    return batcher(metricCountBatchers, context, (ids) => this.store.metricCounts(ids), 0).load(run.id);
  }

  @FieldResolver(() => MetricPoint, { nullable: true, description: 'The last metric row (highest step); null before the first. One query for every run of a list.' })
  lastMetrics(@Root() run: RunRecord, @Ctx() context: GraphQLContext): Promise<MetricRow | null> {
    return batcher<MetricRow | null>(lastMetricBatchers, context, (ids) => this.store.lastMetrics(ids), null).load(run.id);
  }

  @FieldResolver(() => PredictionConnection, { description: "An evaluation's answered questions (its predictions.jsonl, seed by seed) with their samples, filtered; empty for other runs." })
  predictions(
    @Root() run: RunRecord,
    @Arg('first', () => Int, { defaultValue: 50, description: 'At most 500.' }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'A cursor from a previous page.' }) after?: string,
    @Arg('task', () => String, { nullable: true }) task?: string,
    @Arg('correct', () => Boolean, { nullable: true }) correct?: boolean,
    @Arg('consistent', () => Boolean, { nullable: true, description: 'The findings judge reached the answer.' }) consistent?: boolean,
  ): PredictionConnection {
    const all = run.kind === RunKind.Eval ? runPredictions(run.dir, { task, correct, consistent }) : [];
    return pageByIndex(all, first, after, 'predictions', (p) => ({ ...p, thinkCorrect: p.thinkCorrect ?? null, judgeDeductionKeep: p.judgeDeductionKeep ?? null }));
  }

  @FieldResolver(() => CompletionConnection, { description: 'Completions a CON_GRPO run logged (`hyper.logCompletions` groups per step) with their rewards and advantages; empty for other runs.' })
  completions(
    @Root() run: RunRecord,
    @Arg('step', () => Int, { nullable: true, description: 'Only this step.' }) step?: number,
    @Arg('first', () => Int, { defaultValue: 50, description: 'At most 500.' }) first: number = 50,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): CompletionConnection {
    const all = run.kind === RunKind.ConGrpo ? runCompletions(run.dir, step) : [];
    return pageByIndex(all, first, after, 'completions', (c) => c);
  }

  @FieldResolver(() => Evaluation, { nullable: true, description: 'The per-task table of an EVAL run once it succeeded.' })
  async evaluation(@Root() run: RunRecord, @Ctx() context: GraphQLContext): Promise<Evaluation | null> {
    const e = await batcher<EvaluationRecord | null>(evaluationBatchers, context, (ids) => this.store.evaluations(ids), null).load(run.id);
    return e ? toEvaluation(e.result) : null;
  }

  @FieldResolver(() => [PairedDifferenceType], {
    description: 'This evaluation minus `baseline` (another EVAL run) in accuracy points, overall first then per task, paired by seed and question with 95% bootstrap intervals; empty unless both are EVAL runs with predictions.',
  })
  async differenceFrom(@Root() run: RunRecord, @Arg('baseline', () => ID) baseline: string): Promise<PairedDifferenceType[]> {
    const other = await this.service.get(baseline);
    if (!other) throw new MedadError(ErrorCode.NotFound, `baseline: no run ${baseline}`, { fix: 'give the id of an EVAL run (see `runs`)' });
    if (run.kind !== RunKind.Eval || other.kind !== RunKind.Eval) return [];
    return pairedEvaluationDifference(run.dir, other.dir).map((d) => ({
      task: d.task,
      mean: Number.isFinite(d.mean) ? d.mean : null,
      ci95: Number.isFinite(d.mean) ? d.ci95 : [],
      seeds: d.seeds,
      questions: d.questions,
      significant: d.significant,
    }));
  }

  @FieldResolver(() => [RunEventEntry], { description: 'Status changes and log lines, oldest first.' })
  events(@Root() run: RunRecord, @Arg('last', () => Int, { defaultValue: 50 }) last: number): Promise<RunEventEntry[]> {
    return this.store.events(run.id, Math.max(1, Math.min(last, 1000)));
  }

  @Mutation(() => RunType, { description: 'Queue `medad data synth` (the embedded benchmark).' })
  buildDataset(@Arg('input', () => BuildDatasetInput) input: BuildDatasetInput): Promise<RunRecord> {
    return this.service.buildDataset(input);
  }

  @Mutation(() => RunType, { description: 'Queue stage 1: supervised fine-tuning on CoT + answer.' })
  startSftRun(@Arg('input', () => SftRunInput) input: SftRunInput): Promise<RunRecord> {
    return this.service.startSft(input);
  }

  @Mutation(() => RunType, { description: 'Queue stage 2: Con-GRPO from an SFT checkpoint.' })
  startConGrpoRun(@Arg('input', () => ConGrpoRunInput) input: ConGrpoRunInput): Promise<RunRecord> {
    return this.service.startConGrpo(input);
  }

  @Mutation(() => RunType, { description: 'Queue an evaluation of a checkpoint.' })
  startEvaluation(@Arg('input', () => EvaluationInput) input: EvaluationInput): Promise<RunRecord> {
    return this.service.startEvaluation(input);
  }

  @Mutation(() => RunType, { description: 'Cancel a queued run, or stop a running one (SIGTERM, then SIGKILL).' })
  cancelRun(@Arg('id', () => ID) id: string): Promise<RunRecord> {
    return this.service.cancel(id);
  }

  @Mutation(() => RunType, { description: 'Queue a FAILED, CANCELLED or INTERRUPTED run again; it continues from its last checkpoint.' })
  resumeRun(@Arg('id', () => ID) id: string): Promise<RunRecord> {
    return this.service.resume(id);
  }

  @Subscription(() => MetricPoint, { subscribe: metricStream, description: 'Metric rows of a run as they are reported; ends when the run ends.' })
  trainingMetrics(
    @Root() row: MetricRow,
    @Arg('runId', () => ID) _runId: string,
    @Arg('fromStep', () => Int, { nullable: true, description: 'Replay stored rows from this step first.' }) _fromStep?: number,
  ): MetricRow {
    return row;
  }

  @Subscription(() => RunStatusChange, {
    subscribe: ({ args, context }: Ctx) => context.container.resolve(EventBus).subscribe('status', args.runId ? String(args.runId) : '*'),
    description: 'Status changes of one run, or of every run when runId is omitted.',
  })
  runStatus(@Root() change: StatusChange, @Arg('runId', () => ID, { nullable: true }) _runId?: string): StatusChange {
    return change;
  }
}
