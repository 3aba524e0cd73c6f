/**
 * The completions viewer: a Con-GRPO run's logged completions (by step) or an evaluation's
 * predictions, filtered by task, correctness and consistency; one opens with its image,
 * question, options, think, answer, the judge's deduction and the reward breakdown.
 */
import { useEffect, useState } from 'preact/hooks';
import { gql, imageUrl, useQuery } from '../api.js';
import { TASKS, taskLabel, type Json } from '../model.js';
import { Field } from '../ui.js';

/** What the viewer shows of a completion or a prediction. */
interface Item {
  key: string;
  sampleId: string;
  task: string;
  answer: string;
  parsed: string | null;
  think: string | null;
  raw: string;
  question: string | null;
  options: string[] | null;
  /** The sample's lesion box and local-zoom crop and inset, in image pixels. */
  annotations: Annotations | null;
  judgeDeduction: string | null;
  judgeDeductionKeep?: string | null;
  correct: boolean;
  consistent: boolean;
  wellFormed: boolean;
  /** Con-GRPO: total reward, each component, advantage. */
  reward?: number;
  rewards?: Record<string, number>;
  advantage?: number | null;
  step?: number;
  group?: number;
  seed?: number;
}

type Tri = '' | 'true' | 'false';
const PAGE = 100;

const COMPLETION_FIELDS = 'step group sampleId task answer completion think parsed question options judgeDeduction reward rewards advantage wellFormed annotations';
const PREDICTION_FIELDS = 'id seed task answer parsed correct consistent judgeDeduction judgeDeductionKeep formatOk think raw question options annotations';

export function Viewer({ runId, source }: { runId: string; source: 'completions' | 'predictions' }) {
  const [task, setTask] = useState('');
  const [correct, setCorrect] = useState<Tri>('');
  const [consistent, setConsistent] = useState<Tri>('');
  // Completions open at the run's latest step (the step field empties to show every logged step).
  const [step, setStep] = useState<string | null>(source === 'completions' ? null : '');
  useEffect(() => {
    if (step !== null) return;
    void gql<{ run: { lastMetrics: { step: number } | null } | null }>('query($id: ID!) { run(id: $id) { lastMetrics { step } } }', { id: runId }).then(
      (r) => setStep((s) => (s === null ? String(r.run?.lastMetrics?.step ?? '') : s)),
      () => setStep((s) => (s === null ? '' : s)),
    );
  }, [runId, step]);
  const [pages, setPages] = useState(1);
  const [open, setOpen] = useState<string | null>(null);
  const bool = (t: Tri): boolean | null => (t === '' ? null : t === 'true');

  const q = useQuery(async () => {
    const items: Item[] = [];
    if (step === null) return { items, total: 0, more: false }; // the latest step is being looked up
    let after: string | null = null;
    let total = 0;
    let more = false;
    for (let i = 0; i < pages; i++) {
      if (source === 'predictions') {
        const r: Json = await gql(`query($id: ID!, $after: String, $task: String, $correct: Boolean, $consistent: Boolean) { run(id: $id) { predictions(first: ${PAGE}, after: $after, task: $task, correct: $correct, consistent: $consistent) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${PREDICTION_FIELDS} } } } } }`, {
          id: runId, after, task: task || null, correct: bool(correct), consistent: bool(consistent),
        });
        const c = r.run.predictions;
        for (const e of c.edges) {
          const p = e.node;
          items.push({ key: e.cursor, sampleId: p.id, task: p.task, answer: p.answer, parsed: p.parsed, think: p.think, raw: p.raw, question: p.question, options: p.options, judgeDeduction: p.judgeDeduction, judgeDeductionKeep: p.judgeDeductionKeep, correct: p.correct, consistent: p.consistent, wellFormed: p.formatOk, seed: p.seed, annotations: p.annotations });
        }
        total = c.totalCount;
        more = c.pageInfo.hasNextPage;
        after = c.pageInfo.endCursor;
      } else {
        const r: Json = await gql(`query($id: ID!, $after: String, $step: Int) { run(id: $id) { completions(first: ${PAGE}, after: $after, step: $step) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${COMPLETION_FIELDS} } } } } }`, {
          id: runId, after, step: !step ? null : Number(step),
        });
        const c = r.run.completions;
        for (const e of c.edges) {
          const n = e.node;
          const item: Item = { key: e.cursor, sampleId: n.sampleId, task: n.task, answer: n.answer, parsed: n.parsed, think: n.think, raw: n.completion, question: n.question, options: n.options, judgeDeduction: n.judgeDeduction, correct: n.parsed === n.answer, consistent: n.parsed != null && n.judgeDeduction === n.parsed, wellFormed: n.wellFormed, annotations: n.annotations, reward: n.reward, rewards: n.rewards, advantage: n.advantage, step: n.step, group: n.group };
          if (task && item.task !== task) continue;
          if (correct && String(item.correct) !== correct) continue;
          if (consistent && String(item.consistent) !== consistent) continue;
          items.push(item);
        }
        total = c.totalCount;
        more = c.pageInfo.hasNextPage;
        after = c.pageInfo.endCursor;
      }
      if (!more) break;
    }
    return { items, total, more };
  }, [runId, source, task, correct, consistent, step, pages]);

  const items = q.data?.items ?? [];
  const selected = items.find((i) => i.key === open) ?? null;
  const noun = source === 'completions' ? 'completions' : 'predictions';
  const triSelect = (id: string, label: string, value: Tri, set: (t: Tri) => void, yes: string, no: string) => (
    <Field label={label} id={id}>
      <select id={id} value={value} onChange={(e) => set(e.currentTarget.value as Tri)}>
        <option value="">all</option>
        <option value="true">{yes}</option>
        <option value="false">{no}</option>
      </select>
    </Field>
  );

  return (
    <section id="viewer" class="viewer" data-source={source} aria-label={`The run's ${noun}`}>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        {source === 'completions' && (
          <Field label="Step" id="viewer-step" hint="empty: every logged step">
            <input id="viewer-step" type="number" min="0" value={step ?? ''} onInput={(e) => setStep(e.currentTarget.value)} />
          </Field>
        )}
        <Field label="Task" id="viewer-task">
          <select id="viewer-task" value={task} onChange={(e) => setTask(e.currentTarget.value)}>
            <option value="">all tasks</option>
            {TASKS.map((t) => <option value={t}>{taskLabel(t)}</option>)}
          </select>
        </Field>
        {triSelect('viewer-correct', 'Answer', correct, setCorrect, 'correct', 'incorrect')}
        {triSelect('viewer-consistent', 'Judge', consistent, setConsistent, 'consistent', 'inconsistent')}
      </form>
      {q.error && <p class="error">{q.error.message}</p>}
      <p class="muted" id="viewer-count" data-count={items.length}>
        {q.data && step !== null ? `${items.length} ${noun} shown${source === 'predictions' ? ` of ${q.data.total} matching` : ` (of ${q.data.total} logged${step ? ` at step ${step}` : ''})`}` : 'Loading…'}
        {source === 'completions' && q.data?.total === 0 ? ' — start the run with hyper.logCompletions > 0 to log some.' : ''}
      </p>
      <div class="viewer-body">
        <ul class="items" aria-label={noun}>
          {items.map((it) => (
            <li key={it.key}>
              <button type="button" class={it.key === open ? 'item current' : 'item'} aria-pressed={it.key === open} data-correct={String(it.correct)} data-consistent={String(it.consistent)} onClick={() => setOpen(it.key)}>
                <span class={it.correct ? 'mark ok' : 'mark bad'} aria-hidden="true">{it.correct ? '✓' : '✗'}</span>
                <span>
                  {it.step != null ? `step ${it.step} · group ${it.group} · ` : it.seed != null ? `seed ${it.seed} · ` : ''}
                  {taskLabel(it.task)} · answered {it.parsed ?? '—'} (key {it.answer}){it.consistent ? '' : ' · inconsistent'}
                  {it.reward != null ? ` · reward ${it.reward.toFixed(2)}` : ''}
                </span>
              </button>
            </li>
          ))}
        </ul>
        {selected ? <ItemDetail runId={runId} item={selected} /> : <p class="muted detail-placeholder">Choose one to read it.</p>}
      </div>
      {q.data?.more && (
        <button type="button" onClick={() => setPages((n) => n + 1)}>
          Load more
        </button>
      )}
    </section>
  );
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Annotations {
  bbox?: Box;
  crop?: Box;
  inset?: Box;
  /** The region an evaluation with zoom enlarged before answering. */
  zoomed?: Box;
}

/** The lesion-localization regions as fractions of the image (the dataset's REGION_GRID: Center is the middle third). */
const REGION_BOXES: Record<string, [number, number, number, number]> = {
  'Left Upper': [0, 0, 0.5, 0.5],
  'Right Upper': [0.5, 0, 0.5, 0.5],
  'Left Lower': [0, 0.5, 0.5, 0.5],
  'Right Lower': [0.5, 0.5, 0.5, 0.5],
  Center: [1 / 3, 1 / 3, 1 / 3, 1 / 3],
};

/** What to draw over the image: the sample's boxes and, for a localization question, the region the model picked. */
function overlaysOf(item: Item): Array<{ kind: string; label: string; box: Box | [number, number, number, number] }> {
  const out: Array<{ kind: string; label: string; box: Box | [number, number, number, number] }> = [];
  const a = item.annotations;
  if (a?.crop) out.push({ kind: 'crop', label: 'zoom crop', box: a.crop });
  if (a?.inset) out.push({ kind: 'inset', label: 'zoom inset', box: a.inset });
  if (a?.bbox) out.push({ kind: 'lesion', label: 'lesion (ground truth)', box: a.bbox });
  if (a?.zoomed) out.push({ kind: 'zoomed', label: 'zoomed before answering', box: a.zoomed });
  const letter = item.parsed ? 'ABCDEF'.indexOf(item.parsed) : -1;
  const picked = letter >= 0 ? item.options?.[letter] : undefined;
  if (picked && REGION_BOXES[picked]) out.push({ kind: 'predicted', label: `predicted region: ${picked}`, box: REGION_BOXES[picked]! });
  return out;
}

function SampleImage({ runId, sampleId, item }: { runId: string; sampleId: string; item: Item }) {
  const [size, setSize] = useState<[number, number] | null>(null);
  const overlays = overlaysOf(item);
  const [state, setState] = useState<{ url?: string; error?: string }>({});
  useEffect(() => {
    let url: string | undefined;
    let live = true;
    setState({});
    imageUrl(runId, sampleId).then(
      (u) => {
        url = u;
        if (live) setState({ url: u });
        else URL.revokeObjectURL(u);
      },
      (err: Error) => live && setState({ error: err.message }),
    );
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [runId, sampleId]);
  if (state.error) return <p class="muted">{state.error}</p>;
  if (!state.url) return <p class="muted">Loading the image…</p>;
  // A zoomed dataset (MedReason-R1 local zoom) carries its inset inside the image itself.
  return (
    <figure class="sample">
      <div class="sample-frame">
        <img id="sample-image" src={state.url} alt={`The sample image of ${sampleId}`} class="sample-image" onLoad={(e) => setSize([e.currentTarget.naturalWidth, e.currentTarget.naturalHeight])} />
        {size && overlays.length > 0 && (
          <svg class="overlay" viewBox={`0 0 ${size[0]} ${size[1]}`} preserveAspectRatio="none" aria-hidden="true">
            {overlays.map((o) => {
              const [x, y, w, h] = Array.isArray(o.box) ? [o.box[0] * size[0], o.box[1] * size[1], o.box[2] * size[0], o.box[3] * size[1]] : [o.box.x, o.box.y, o.box.width, o.box.height];
              return <rect class={`ov-${o.kind}`} data-kind={o.kind} x={x} y={y} width={w} height={h} vector-effect="non-scaling-stroke" />;
            })}
          </svg>
        )}
      </div>
      {overlays.length > 0 && (
        <figcaption id="overlay-legend">
          {overlays.map((o) => (
            <span class={`legend legend-${o.kind}`}>{o.label}</span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}

function ItemDetail({ runId, item }: { runId: string; item: Item }) {
  const letters = ['A', 'B', 'C', 'D', 'E', 'F'];
  return (
    <div id="item-detail" class="detail" data-sample-id={item.sampleId} tabIndex={-1} aria-live="polite">
      <h2>
        Sample <span class="mono">{item.sampleId}</span> · {taskLabel(item.task)}
      </h2>
      <SampleImage runId={runId} sampleId={item.sampleId} item={item} />
      {item.question && <p class="question">{item.question}</p>}
      {item.options && (
        <ol class="options" type="A">
          {item.options.map((o, i) => {
            const l = letters[i]!;
            return (
              <li class={[l === item.answer ? 'key' : '', l === item.parsed ? 'picked' : ''].join(' ')}>
                {o}
                {l === item.answer ? ' — answer key' : ''}
                {l === item.parsed ? ' — model' : ''}
              </li>
            );
          })}
        </ol>
      )}
      <h3>Think</h3>
      <p id="item-think" class="think">{item.think ?? <em>no &lt;think&gt; block</em>}</p>
      <dl class="facts">
        <div><dt>Answer</dt><dd id="item-answer">{item.parsed ?? '— (none parsed)'}</dd></div>
        <div><dt>Key</dt><dd>{item.answer}</dd></div>
        <div><dt>Judge's deduction</dt><dd id="item-judge">{item.judgeDeduction ?? '— (none)'}</dd></div>
        {item.judgeDeductionKeep !== undefined && <div><dt>Judge (whole think)</dt><dd>{item.judgeDeductionKeep ?? '—'}</dd></div>}
        <div><dt>Well formed</dt><dd>{item.wellFormed ? 'yes' : 'no'}</dd></div>
      </dl>
      {item.rewards && (
        <table id="reward-breakdown" class="numeric">
          <caption>Reward breakdown</caption>
          <thead><tr><th scope="col">Term</th><th scope="col">Score</th></tr></thead>
          <tbody>
            {Object.entries(item.rewards).map(([k, v]) => <tr><th scope="row">{k}</th><td>{Number(v).toFixed(3)}</td></tr>)}
            <tr class="overall"><th scope="row">Weighted reward</th><td>{item.reward?.toFixed(3)}</td></tr>
            <tr><th scope="row">Advantage</th><td>{item.advantage == null ? 'not trained on' : item.advantage.toFixed(3)}</td></tr>
          </tbody>
        </table>
      )}
      <details>
        <summary>Whole output</summary>
        <pre class="code">{item.raw}</pre>
      </details>
    </div>
  );
}
