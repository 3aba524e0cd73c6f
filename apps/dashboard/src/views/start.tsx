/**
 * Start a run from a form. The hyper-parameter and compute fields, and every plugin's config, are
 * generated from the JSON Schemas the server publishes (`runSpecSchema`, `plugins.configSchema`);
 * only the fields you change are sent, so everything else takes the spec defaults. The server
 * validates; its messages appear at the field they name.
 */
import { useState } from 'preact/hooks';
import { ApiError, gql, useQuery, type FieldErrors } from '../api.js';
import { KIND_LABEL, type Json, type RunKind } from '../model.js';
import { Field, go, href, showError } from '../ui.js';

type FormKind = 'sft' | 'con-grpo' | 'eval' | 'dataset';
const FORMS: Array<[FormKind, string]> = [['sft', 'SFT'], ['con-grpo', 'Con-GRPO'], ['eval', 'Evaluation'], ['dataset', 'Dataset']];
type Obj = Record<string, unknown>;

interface Plugin {
  id: string;
  kind: string;
  description: string | null;
  configSchema: Json;
}

const fieldId = (path: string): string => `f-${path.replace(/[^\w-]+/g, '-')}`;

/** One field of a JSON Schema: a number, a choice, a check, text, or a nested group. */
function SchemaField({ name, schema, path, value, set, errors }: { name: string; schema: Json; path: string; value: unknown; set: (v: unknown) => void; errors: FieldErrors }) {
  const id = fieldId(path);
  const error = errors[path];
  const hint = [schema.description, schema.default !== undefined && typeof schema.default !== 'object' ? `default ${JSON.stringify(schema.default)}` : ''].filter(Boolean).join(' · ');
  const aria = { 'aria-invalid': error ? true : undefined, 'aria-describedby': [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined };
  if (schema.type === 'object' && schema.properties) {
    const obj = (value as Obj | undefined) ?? {};
    return (
      <fieldset class="group">
        <legend>{name}</legend>
        {error && <small class="field-error" role="alert">{error}</small>}
        <SchemaFields schema={schema} path={path} value={obj} set={(v) => set(Object.keys(v).length ? v : undefined)} errors={errors} />
      </fieldset>
    );
  }
  let input;
  const enumValues: unknown[] | undefined = schema.enum ?? (schema.const !== undefined ? [schema.const] : undefined);
  if (enumValues) {
    input = (
      <select id={id} {...aria} value={value === undefined ? '' : String(value)} onChange={(e) => set(e.currentTarget.value === '' ? undefined : e.currentTarget.value)}>
        <option value="">default{schema.default !== undefined ? ` (${schema.default})` : ''}</option>
        {enumValues.map((v) => <option value={String(v)}>{String(v)}</option>)}
      </select>
    );
  } else if (schema.type === 'boolean') {
    input = (
      <select id={id} {...aria} value={value === undefined ? '' : String(value)} onChange={(e) => set(e.currentTarget.value === '' ? undefined : e.currentTarget.value === 'true')}>
        <option value="">default{schema.default !== undefined ? ` (${schema.default})` : ''}</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  } else if (schema.type === 'integer' || schema.type === 'number') {
    input = (
      <input id={id} {...aria} type="number" inputMode="decimal" step={schema.type === 'integer' ? 1 : 'any'} placeholder={schema.default !== undefined ? String(schema.default) : ''} value={value === undefined ? '' : String(value)}
        onInput={(e) => set(e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))} />
    );
  } else {
    // Strings, unions (e.g. "auto" or a number), arrays and free-form objects: typed as text, read as JSON when it parses.
    const structured = schema.type === 'array' || schema.type === 'object';
    input = (
      <input id={id} {...aria} type="text" placeholder={schema.default !== undefined ? (typeof schema.default === 'string' ? schema.default : JSON.stringify(schema.default)) : structured ? 'JSON' : ''}
        value={value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)}
        onInput={(e) => {
          const t = e.currentTarget.value;
          if (t === '') return set(undefined);
          if (schema.type === 'string') return set(t);
          try {
            set(JSON.parse(t));
          } catch {
            set(t);
          }
        }} />
    );
  }
  return (
    <Field label={name} id={id} error={error} hint={hint || undefined}>
      {input}
    </Field>
  );
}

/** The properties of an object schema; `value` holds only the fields set. */
function SchemaFields({ schema, path, value, set, errors }: { schema: Json; path: string; value: Obj; set: (v: Obj) => void; errors: FieldErrors }) {
  const props: Record<string, Json> = schema?.properties ?? {};
  return (
    <div class="fields">
      {Object.entries(props).map(([k, s]) => (
        <SchemaField name={k} schema={s} path={`${path}.${k}`} value={value[k]} errors={errors}
          set={(v) => {
            const next = { ...value };
            if (v === undefined) delete next[k];
            else next[k] = v;
            set(next);
          }} />
      ))}
    </div>
  );
}

/** A plugin choice and its config fields from the plugin's schema. */
function PluginPicker({ label, kind, path, plugins, value, set, errors, fallback }: { label: string; kind: string; path: string; plugins: Plugin[]; value: { plugin: string; config: Obj }; set: (v: { plugin: string; config: Obj }) => void; errors: FieldErrors; fallback: string }) {
  const mine = plugins.filter((p) => p.kind === kind);
  const chosen = mine.find((p) => p.id === value.plugin);
  const id = fieldId(`${path}.plugin`);
  return (
    <fieldset class="group">
      <legend>{label}</legend>
      <Field label="plugin" id={id} error={errors[`${path}.plugin`]} hint={chosen?.description ?? undefined}>
        <select id={id} value={value.plugin || fallback} onChange={(e) => set({ plugin: e.currentTarget.value, config: {} })}>
          {mine.map((p) => <option value={p.id}>{p.id}</option>)}
        </select>
      </Field>
      {errors[`${path}.config`] && <small class="field-error" role="alert">{errors[`${path}.config`]}</small>}
      {chosen?.configSchema?.properties && <SchemaFields schema={chosen.configSchema} path={`${path}.config`} value={value.config} set={(config) => set({ ...value, config })} errors={errors} />}
    </fieldset>
  );
}

interface Catalog {
  plugins: Plugin[];
  datasets: Array<{ id: string; name: string }>;
  runs: { edges: Array<{ node: { id: string; kind: RunKind; status: string } }> };
}

function RunPicker({ label, path, runs, kinds, value, set, errors, hint }: { label: string; path: string; runs: Catalog['runs']; kinds: RunKind[]; value: string; set: (v: string) => void; errors: FieldErrors; hint: string }) {
  const id = fieldId(path);
  const error = errors[path] ?? errors[`${path}.fromRun`] ?? errors[path.replace(/\.\w+$/, '')];
  return (
    <Field label={label} id={id} error={error} hint={hint}>
      <select id={id} value={value} aria-invalid={error ? true : undefined} onChange={(e) => set(e.currentTarget.value)}>
        <option value="">choose…</option>
        {runs.edges.filter((e) => kinds.includes(e.node.kind) && !['FAILED', 'CANCELLED'].includes(e.node.status)).map((e) => (
          <option value={e.node.id}>{`${e.node.id} (${KIND_LABEL[e.node.kind]}, ${e.node.status.toLowerCase()})`}</option>
        ))}
      </select>
    </Field>
  );
}

function DatasetPicker({ catalog, value, set, errors }: { catalog: Catalog; value: string; set: (v: string) => void; errors: FieldErrors }) {
  const id = fieldId('input.dataset');
  const error = errors['input.dataset'] ?? errors['input.dataset.id'] ?? errors['input.dataset.fromRun'] ?? errors['input.dataset.path'];
  return (
    <Field label="dataset" id={id} error={error} hint="a built dataset, or a dataset run still building (the run waits for it)">
      <select id={id} value={value} aria-invalid={error ? true : undefined} onChange={(e) => set(e.currentTarget.value)}>
        <option value="">choose…</option>
        {catalog.datasets.map((d) => <option value={`id:${d.id}`}>{d.name}</option>)}
        {catalog.runs.edges.filter((e) => e.node.kind === 'BUILD_DATASET' && ['QUEUED', 'RUNNING'].includes(e.node.status)).map((e) => (
          <option value={`run:${e.node.id}`}>{`run ${e.node.id} (${e.node.status.toLowerCase()})`}</option>
        ))}
      </select>
    </Field>
  );
}

/** Fields whose errors the form shows on a group rather than on one control. */
const GROUP_ERRORS = /^input\.(hyper|compute|rewards|dataset(\.\w+)?|from(\.\w+)?|checkpoint(\.\w+)?|(backbone|judge)\.config)$/;

const datasetInput = (v: string): Obj | undefined => (v.startsWith('id:') ? { id: v.slice(3) } : v.startsWith('run:') ? { fromRun: v.slice(4) } : undefined);

export function StartRun({ kind }: { kind: string }) {
  const form: FormKind = (FORMS.find(([k]) => k === kind)?.[0] ?? 'sft');
  const catalog = useQuery(() => gql<Catalog>('{ plugins { id kind description configSchema } datasets { id name } runs(first: 100) { edges { node { id kind status } } } }'), [form]);
  const schema = useQuery(() => (form === 'sft' || form === 'con-grpo' ? gql<{ runSpecSchema: Json }>('query($k: String!) { runSpecSchema(kind: $k) }', { k: form }).then((r) => r.runSpecSchema) : Promise.resolve(null)), [form]);
  return (
    <section id="start" aria-labelledby="start-title">
      <h1 id="start-title">Start a run</h1>
      <nav class="tabs" aria-label="Run kinds">
        {FORMS.map(([k, label]) => <a href={href('start', k)} aria-current={k === form ? 'page' : undefined}>{label}</a>)}
      </nav>
      {catalog.error && <p class="error">{catalog.error.message}</p>}
      {catalog.data && (form === 'dataset' || schema.data !== undefined) ? <RunForm key={form} form={form} catalog={catalog.data} spec={schema.data} /> : <p aria-busy="true">Loading the form…</p>}
    </section>
  );
}

function RunForm({ form, catalog, spec }: { form: FormKind; catalog: Catalog; spec: Json }) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const [dataset, setDataset] = useState(catalog.datasets[0] ? `id:${catalog.datasets[0].id}` : '');
  const [seed, setSeed] = useState('');
  const [hyper, setHyper] = useState<Obj>({});
  const [compute, setCompute] = useState<Obj>({});
  const [backbone, setBackbone] = useState<{ plugin: string; config: Obj }>({ plugin: 'tfjs-vlm', config: {} });
  const [judge, setJudge] = useState<{ plugin: string; config: Obj }>({ plugin: 'rule', config: {} });
  const [from, setFrom] = useState('');
  const [weights, setWeights] = useState<Record<string, string>>({});
  const [evalOpts, setEvalOpts] = useState<Obj>({});
  const [ds, setDs] = useState<Obj>({ name: '' });
  const [other, setOther] = useState<string[]>([]);

  const rewards = catalog.plugins.filter((p) => p.kind === 'REWARD');
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setOther([]);
    const seedInput = seed === '' ? {} : { seed: Number(seed) };
    const withHyper = { ...(Object.keys(hyper).length ? { hyper } : {}), ...(Object.keys(compute).length ? { compute } : {}) };
    let mutation: string;
    let input: Obj;
    if (form === 'sft') {
      mutation = 'mutation($input: SftRunInput!) { run: startSftRun(input: $input) { id } }';
      input = { dataset: datasetInput(dataset), backbone, ...seedInput, ...withHyper };
    } else if (form === 'con-grpo') {
      mutation = 'mutation($input: ConGrpoRunInput!) { run: startConGrpoRun(input: $input) { id } }';
      const chosen = Object.entries(weights).filter(([, w]) => w !== '');
      input = { dataset: datasetInput(dataset), from: from ? { fromRun: from } : undefined, judge, ...seedInput, ...withHyper, ...(chosen.length ? { rewards: chosen.map(([plugin, w]) => ({ plugin, weight: Number(w) })) } : {}) };
    } else if (form === 'eval') {
      mutation = 'mutation($input: EvaluationInput!) { run: startEvaluation(input: $input) { id } }';
      input = { dataset: datasetInput(dataset), checkpoint: from ? { fromRun: from } : undefined, judge, ...evalOpts };
    } else {
      mutation = 'mutation($input: BuildDatasetInput!) { run: buildDataset(input: $input) { id } }';
      input = ds;
    }
    try {
      const r = await gql<{ run: { id: string } }>(mutation, { input });
      go('run', r.run.id);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) {
        setErrors(err.fields);
        // Errors of a field on the form appear there; the rest (a field the form has no control for) above the button.
        const placed = (f: string): boolean => !!document.getElementById(fieldId(f)) || GROUP_ERRORS.test(f);
        setOther(Object.entries(err.fields).filter(([f]) => !placed(f)).map(([f, m]) => `${f}: ${m}`));
        requestAnimationFrame(() => (document.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus());
      } else if (err instanceof ApiError && /^Variable "\$input"/.test(err.message)) {
        setOther([err.message]);
      } else showError(err);
    } finally {
      setBusy(false);
    }
  };
  const seedField = (
    <Field label="seed" id={fieldId('input.seed')} error={errors['input.seed']} hint="default 0">
      <input id={fieldId('input.seed')} type="number" min="0" step="1" value={seed} onInput={(e) => setSeed(e.currentTarget.value)} />
    </Field>
  );
  return (
    <form id={`form-${form}`} class="run-form" noValidate onSubmit={(e) => void submit(e)} data-kind={form}>
      {form !== 'dataset' && <DatasetPicker catalog={catalog} value={dataset} set={setDataset} errors={errors} />}
      {form === 'sft' && (
        <>
          <PluginPicker label="backbone" kind="BACKBONE" path="input.backbone" plugins={catalog.plugins} value={backbone} set={setBackbone} errors={errors} fallback="tfjs-vlm" />
          {seedField}
        </>
      )}
      {form === 'con-grpo' && (
        <>
          <RunPicker label="start from (SFT run)" path="input.from" runs={catalog.runs} kinds={['SFT']} value={from} set={setFrom} errors={errors} hint="its latest checkpoint; also the frozen KL reference" />
          <PluginPicker label="judge" kind="JUDGE" path="input.judge" plugins={catalog.plugins} value={judge} set={setJudge} errors={errors} fallback="rule" />
          <fieldset class="group">
            <legend>rewards (weights λ; all empty = format, accuracy, consistency at 1/3 each)</legend>
            {errors['input.rewards'] && <small class="field-error" role="alert">{errors['input.rewards']}</small>}
            <div class="fields">
              {rewards.map((p) => (
                <Field label={`${p.id} weight`} id={fieldId(`input.rewards.${p.id}`)} hint={p.description ?? undefined}>
                  <input id={fieldId(`input.rewards.${p.id}`)} type="number" step="any" min="0" value={weights[p.id] ?? ''} onInput={(e) => setWeights({ ...weights, [p.id]: e.currentTarget.value })} />
                </Field>
              ))}
            </div>
          </fieldset>
          {seedField}
        </>
      )}
      {(form === 'sft' || form === 'con-grpo') && spec && (
        <>
          <fieldset class="group">
            <legend>hyper-parameters</legend>
            {errors['input.hyper'] && <small class="field-error" role="alert">{errors['input.hyper']}</small>}
            <SchemaFields schema={spec.properties.hyper} path="input.hyper" value={hyper} set={setHyper} errors={errors} />
          </fieldset>
          <fieldset class="group">
            <legend>compute</legend>
            {errors['input.compute'] && <small class="field-error" role="alert">{errors['input.compute']}</small>}
            <SchemaFields schema={spec.properties.compute} path="input.compute" value={compute} set={setCompute} errors={errors} />
          </fieldset>
        </>
      )}
      {form === 'eval' && (
        <>
          <RunPicker label="checkpoint of (training run)" path="input.checkpoint" runs={catalog.runs} kinds={['SFT', 'CON_GRPO']} value={from} set={setFrom} errors={errors} hint="the run's latest checkpoint" />
          <PluginPicker label="judge" kind="JUDGE" path="input.judge" plugins={catalog.plugins} value={judge} set={setJudge} errors={errors} fallback="rule" />
          <SchemaFields
            schema={{ properties: {
              seeds: { type: 'array', description: 'results are mean ± std over these seeds', default: [1, 2, 3] },
              decoding: { enum: ['greedy', 'sample'], description: 'sample: temperature 1, one pass per seed (the default with several seeds)' },
              split: { enum: ['test', 'train'], default: 'test' },
              limit: { type: 'integer', description: 'only the first N samples of the split' },
              zoom: { enum: ['none', 'predicted', 'oracle'], default: 'none', description: 'coarse-to-fine: zoom into the region the model predicts, or the labelled lesion (oracle, an upper bound)' },
            } }}
            path="input" value={evalOpts} set={setEvalOpts} errors={errors} />
        </>
      )}
      {form === 'dataset' && (
        <SchemaFields
          schema={{ properties: {
            name: { type: 'string', description: 'directory name under the first dataset root; also the dataset id' },
            samples: { type: 'integer', description: 'questions to generate', default: 2000 },
            seed: { type: 'integer', default: 0 },
            zoom: { type: 'boolean', description: 'embed a zoomed inset of the region of interest (MedReason-R1)', default: false },
          } }}
          path="input" value={ds} set={setDs} errors={errors} />
      )}
      {other.length > 0 && (
        <ul class="error" role="alert" id="form-errors">
          {other.map((m) => <li>{m}</li>)}
        </ul>
      )}
      <button type="submit" class="primary" disabled={busy} id="start-submit">
        {busy ? 'Starting…' : `Start ${FORMS.find(([k]) => k === form)![1]}`}
      </button>
    </form>
  );
}
