import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import {
  ErrorCode,
  MedadError,
  OPTION_LETTERS,
  TASKS,
  createRootContainer,
  errorMessage,
  type Backbone,
  type Completion,
  type Judge,
  type Logger,
  type MedAdSample,
  type PluginRegistry,
  type RawImage,
} from '@medad/core';
import { decodeImage } from '@medad/dataset';
import { parseJudgePrompt } from '@medad/plugin-judge-rule';
import { RunKind, type RunRecord } from '../domain.js';
import type { Store } from '../store/store.js';
import { UNAUTHENTICATED, type TokenAuth } from './auth.js';
import { readBody } from './body.js';
import { callerKey, rateLimitMessage, type RateLimiter } from './rate-limit.js';
import { confinePath } from './paths.js';

/*
 * An OpenAI-compatible endpoint on the control plane's HTTP server: `GET /v1/models`,
 * `GET /v1/models/{id}` and `POST /v1/chat/completions`, answering with a policy checkpoint
 * (tfjs-vlm weights, or an exported ONNX directory). Models are the names configured in
 * `serveModels` (MEDAD_SERVE_MODELS) plus every SFT / Con-GRPO run id with a checkpoint.
 *
 * A policy checkpoint answers requests that carry one image (a data URL) and a multiple-choice
 * prompt (question + options A-D, as the `openai` backbone plugin sends it). A served name whose
 * directory holds a learned judge (`judge.json`, from `medad train judge`) answers text-only judge
 * prompts (question, lettered options, `<reasoning>`, as the `openai` judge plugin sends them)
 * with the deduced letter or NONE, so a trained judge can serve another run's consistency reward.
 */

/** Most completions (`n`) per request. */
export const MAX_CHOICES = 8;
/** Most new tokens (`max_tokens`) per completion. */
export const MAX_NEW_TOKENS = 4096;
/** Backbones kept loaded at once (least recently used are disposed first). */
export const DEFAULT_MODEL_CACHE = 2;
/** Requests waiting for one model before further ones get HTTP 429. */
export const DEFAULT_MAX_QUEUE = 64;
/** Training runs `/v1/models` looks at (newest first); older runs are still served by id. */
const LISTED_RUNS = 200;

/** What the endpoint needs from the control plane. */
export interface OpenAiEndpointOptions {
  registry: PluginRegistry;
  store: Store;
  auth: TokenAuth;
  /** Chat completions per caller per minute (none: unlimited). */
  rateLimit?: RateLimiter;
  /** Served name → absolute checkpoint or run directory (see {@link resolveServedModels}). */
  models: Record<string, string>;
  checkpointRoots: readonly string[];
  maxBodyBytes: number;
  logger: Logger;
  /** Loaded backbones kept (LRU). Default {@link DEFAULT_MODEL_CACHE}. */
  cacheSize?: number;
  /** Waiting requests per model before 429. Default {@link DEFAULT_MAX_QUEUE}. */
  maxQueue?: number;
}

/** One loaded model as {@link OpenAiEndpoint.loaded} reports it. */
export interface LoadedModelInfo {
  dir: string;
  backbone: string;
  /** Requests queued or generating. */
  pending: number;
}

/** An OpenAI-style error: HTTP status plus `{ error: { message, type, param, code } }`. */
export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status >= 500 ? 'server_error' : 'invalid_request_error',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const badRequest = (param: string | null, message: string, fix: string, code: string | null = 'invalid_value'): OpenAiError =>
  new OpenAiError(400, `${param ? `${param}: ` : ''}${message}. Fix: ${fix}`, param, code);

/**
 * Checks the configured served models (name → path) against the checkpoint roots and returns
 * name → absolute path; a path outside the roots fails startup with FORBIDDEN.
 */
export function resolveServedModels(models: Record<string, string>, roots: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, path] of Object.entries(models)) out[name] = confinePath(path, roots, `serveModels.${name}`, 'checkpoint');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Prompt parsing

/** The question and options read back from a chat prompt. */
export interface ParsedChatPrompt {
  question: string;
  options: [string, string, string, string];
}

function clean(question: string, options: string[]): ParsedChatPrompt | undefined {
  const q = question
    .replace(/^\s*(?:<image>\s*)+/, '')
    .replace(/^\s*Question\s*:\s*/i, '')
    .replace(/\s*Options\s*:?\s*$/i, '')
    .trim();
  const opts = options.map((o) => o.trim());
  if (!q || opts.length !== 4 || opts.some((o) => !o)) return undefined;
  return { question: q, options: opts as ParsedChatPrompt['options'] };
}

/**
 * Reads the question and the four options back from a prompt's text. Understands what the
 * `openai` backbone sends (`question\nOptions:\n(A) …\n(B) …\n(C) …\n(D) …\nAnswer with …`), the
 * policy's own one-line format (`Question: … Options: (A) … (B) … (C) … (D) … Answer:`) and
 * `A. …` / `A) …` option lines; undefined when none fits.
 */
export function parseChatPrompt(text: string): ParsedChatPrompt | undefined {
  const t = text.replace(/\r\n?/g, '\n').trim();
  // "(A) … (B) … (C) … (D) …": the greedy question group takes the last (A) followed by (B), (C), (D).
  const paren = /^([\s\S]*)\(A\)([\s\S]*?)\(B\)([\s\S]*?)\(C\)([\s\S]*?)\(D\)([\s\S]*)$/.exec(t);
  if (paren) {
    const d = paren[5]!.trim();
    const last = d.includes('\n') ? d.slice(0, d.indexOf('\n')) : d.replace(/\s+Answer\b[\s\S]*$/i, '');
    const parsed = clean(paren[1]!, [paren[2]!, paren[3]!, paren[4]!, last]);
    if (parsed) return parsed;
  }
  // Option lines "A. …", "A) …", "A: …".
  const lines = t.split('\n');
  const at = (letter: string, from: number): number => lines.findIndex((l, i) => i >= from && new RegExp(`^\\s*${letter}\\s*[.):]\\s+\\S`).test(l));
  const a = at('A', 0);
  if (a > 0) {
    const idx = [a];
    for (const letter of ['B', 'C', 'D']) idx.push(at(letter, idx.at(-1)! + 1));
    if (idx.every((i) => i > 0) && idx.slice(1).every((v, k) => v === idx[k]! + 1)) {
      return clean(lines.slice(0, a).join('\n'), idx.map((i) => lines[i]!.replace(/^\s*[A-D]\s*[.):]\s+/, '')));
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Request validation

interface ChatRequest {
  model: string;
  question: ParsedChatPrompt;
  image: RawImage;
  n: number;
  temperature: number;
  topP: number | undefined;
  maxTokens: number | undefined;
  seed: number | undefined;
  stop: string[];
}

const FIX_IMAGE_PART = `put the image in the last user message as { "type": "image_url", "image_url": { "url": "data:image/png;base64,<...>" } }`;

function optionalNumber(body: Record<string, unknown>, field: string, min: number, max: number, integer: boolean): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw badRequest(field, `${JSON.stringify(v)} is not ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`, `send ${field} between ${min} and ${max} or leave it out`);
  }
  return v;
}

/** Largest image /v1 decodes (4096 × 4096): checked from the PNG/JPEG header before any pixel is decoded. */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

function decodeDataUrl(url: string, param: string): RawImage {
  const m = /^data:([^;,]*)((?:;[^;,]*)*),([\s\S]*)$/.exec(url);
  if (!m) {
    throw badRequest(param, `"${url.slice(0, 40)}${url.length > 40 ? '…' : ''}" is not a data URL; this server does not fetch remote images`, 'send the image inline as data:image/png;base64,<...> (PNG or JPEG)', 'invalid_image_url');
  }
  if (!/;base64$/i.test(m[2]!)) throw badRequest(param, 'the data URL is not base64-encoded', 'send data:image/png;base64,<...>', 'invalid_image_url');
  const bytes = Buffer.from(m[3]!, 'base64');
  if (!bytes.length) throw badRequest(param, 'the data URL holds no bytes', 'send a PNG or JPEG image, base64-encoded', 'invalid_image_url');
  try {
    return decodeImage(bytes, `the image in ${param}`, { maxPixels: MAX_IMAGE_PIXELS });
  } catch (err) {
    const tooLarge = err instanceof MedadError && err.details.maxPixels !== undefined;
    throw new OpenAiError(400, errorMessage(err), param, tooLarge ? 'image_too_large' : 'invalid_image');
  }
}

/** Validates a chat-completions body into what the backbone needs, or throws a 400 naming the field and the fix. */
function parseChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(null, 'the request body is not a JSON object', 'send { "model": "...", "messages": [...] }');
  }
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || !b.model) throw badRequest('model', 'is missing or not a string', 'name a model listed by GET /v1/models', 'missing_model');
  if (b.stream === true) throw badRequest('stream', 'streaming is not supported by this server', 'send "stream": false (or leave it out)', 'unsupported_value');
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw badRequest('messages', 'must be a non-empty array', 'send [{ "role": "user", "content": [ <image_url part>, <text part> ] }]');
  const messages = b.messages as unknown[];
  let userIndex = -1;
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof (m as { role?: unknown }).role !== 'string') {
      throw badRequest(`messages[${i}]`, 'is not an object with a string "role"', 'send messages as { "role": "system" | "user" | "assistant", "content": ... }');
    }
    if ((m as { role: string }).role === 'user') userIndex = i;
  });
  if (userIndex < 0) throw badRequest('messages', 'has no message with role "user"', 'send the question and image in a user message');
  const content = (messages[userIndex] as { content?: unknown }).content;
  const where = `messages[${userIndex}].content`;
  const texts: string[] = [];
  const images: Array<{ url: string; param: string }> = [];
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) {
    content.forEach((part: unknown, j) => {
      const p = part as { type?: unknown; text?: unknown; image_url?: unknown };
      if (p?.type === 'text' && typeof p.text === 'string') texts.push(p.text);
      else if (p?.type === 'image_url') {
        const url = typeof p.image_url === 'string' ? p.image_url : (p.image_url as { url?: unknown } | undefined)?.url;
        if (typeof url !== 'string') throw badRequest(`${where}[${j}].image_url.url`, 'is missing or not a string', FIX_IMAGE_PART);
        images.push({ url, param: `${where}[${j}].image_url.url` });
      } else throw badRequest(`${where}[${j}]`, `has type ${JSON.stringify(p?.type)}; only "text" and "image_url" parts are understood`, 'send text and image_url parts');
    });
  } else throw badRequest(where, 'is neither a string nor an array of content parts', 'send an array of { "type": "text" } and { "type": "image_url" } parts');
  if (images.length === 0) {
    throw badRequest(where, 'has no image; policy checkpoints answer about one image (text-only judge prompts are served by learned-judge models only)', FIX_IMAGE_PART, 'image_required');
  }
  if (images.length > 1) throw badRequest(where, `has ${images.length} images; the policy reads exactly one`, 'send one image_url part');
  const text = texts.join('\n');
  const question = parseChatPrompt(text);
  if (!question) {
    throw badRequest(
      where,
      `cannot read a multiple-choice question from the text "${text.slice(0, 80)}${text.length > 80 ? '…' : ''}"`,
      'send the question followed by four options, e.g. "Which organ is shown?\\nOptions:\\n(A) Lung\\n(B) Liver\\n(C) Heart\\n(D) Kidney" (what the openai backbone plugin sends)',
      'invalid_prompt',
    );
  }
  const image = decodeDataUrl(images[0]!.url, images[0]!.param);
  const stopRaw = b.stop;
  const stop = stopRaw === undefined || stopRaw === null ? [] : typeof stopRaw === 'string' ? [stopRaw] : stopRaw;
  if (!Array.isArray(stop) || stop.length > 4 || stop.some((s) => typeof s !== 'string' || !s)) throw badRequest('stop', 'must be a non-empty string or up to 4 of them', 'send e.g. "stop": ["</answer>"] or leave it out');
  const maxTokens = optionalNumber(b, 'max_tokens', 1, MAX_NEW_TOKENS, true) ?? optionalNumber(b, 'max_completion_tokens', 1, MAX_NEW_TOKENS, true);
  const seed = optionalNumber(b, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  return {
    model: b.model,
    question,
    image,
    n: optionalNumber(b, 'n', 1, MAX_CHOICES, true) ?? 1,
    temperature: optionalNumber(b, 'temperature', 0, 2, false) ?? 1,
    topP: optionalNumber(b, 'top_p', 0, 1, false),
    maxTokens,
    seed: seed === undefined ? undefined : ((seed % 2 ** 32) + 2 ** 32) % 2 ** 32,
    stop: stop as string[],
  };
}

/** A contract sample carrying what the backbones render (question and options); the rest is unused filler. */
function chatSample(q: ParsedChatPrompt): MedAdSample {
  return { id: 'chat', image: '', modality: '', anatomy: '', task: TASKS[0], question: q.question, options: q.options, answer: OPTION_LETTERS[0], cot: '', source: 'openai-endpoint', split: 'test' };
}

// ---------------------------------------------------------------------------------------------
// Model loading: LRU of loaded backbones, one generation at a time per model

interface Slot {
  key: string;
  dir: string;
  backboneId: string;
  backbone: Promise<Backbone>;
  /** Settles when everything queued on this model so far has finished. */
  tail: Promise<void>;
  pending: number;
}

/** A checkpoint directory and the stamp of its weights (changes when a training run overwrites it). */
interface ResolvedModel {
  dir: string;
  backboneId: 'onnx' | 'tfjs-vlm';
  stamp: string;
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function promptTokens(backbone: Backbone, prompt: { sample: MedAdSample; image: RawImage }): number {
  // tfjs-vlm exposes its policy: count text ids plus image patch tokens. Otherwise estimate by words.
  const policy = (backbone as { policy?: { encodePrompt?: (p: unknown) => { promptIds: readonly number[]; patches: Float32Array }; model?: { config?: { patchSize?: number } } } }).policy;
  const patch = policy?.model?.config?.patchSize;
  if (policy?.encodePrompt && patch) {
    const e = policy.encodePrompt(prompt);
    return e.promptIds.length + e.patches.length / (patch * patch * 3);
  }
  return `${prompt.sample.question} ${prompt.sample.options.join(' ')}`.split(/\s+/).filter(Boolean).length;
}

/** The `/v1` routes. */
export class OpenAiEndpoint {
  private readonly slots = new Map<string, Slot>();
  /** Learned judges by directory and judge.json stamp (small; all kept). */
  private readonly judges = new Map<string, Promise<Judge>>();
  private readonly cacheSize: number;
  private readonly maxQueue: number;
  private closed = false;

  constructor(private readonly o: OpenAiEndpointOptions) {
    this.cacheSize = Math.max(1, o.cacheSize ?? DEFAULT_MODEL_CACHE);
    this.maxQueue = Math.max(1, o.maxQueue ?? DEFAULT_MAX_QUEUE);
  }

  /** Backbones loaded now, least recently used first. */
  loaded(): LoadedModelInfo[] {
    return [...this.slots.values()].map((s) => ({ dir: s.dir, backbone: s.backboneId, pending: s.pending }));
  }

  /** Handles a request under `/v1/`. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      this.authenticate(req);
      const path = url.pathname.replace(/\/+$/, '');
      const method = req.method ?? 'GET';
      if (path === '/v1/models') {
        if (method !== 'GET') throw new OpenAiError(405, `Method ${method} is not allowed on /v1/models. Fix: use GET`, null, 'method_not_allowed');
        return send(res, 200, { object: 'list', data: await this.listModels() });
      }
      if (path.startsWith('/v1/models/')) {
        if (method !== 'GET') throw new OpenAiError(405, `Method ${method} is not allowed on ${path}. Fix: use GET`, null, 'method_not_allowed');
        let id: string;
        try {
          id = decodeURIComponent(path.slice('/v1/models/'.length));
        } catch {
          throw badRequest('model', 'the model id in the URL is not valid percent-encoding', 'URL-encode the model id');
        }
        const found = (await this.listModels()).find((m) => m.id === id) ?? (await this.modelEntry(id));
        if (!found) throw await this.unknownModel(id);
        return send(res, 200, found);
      }
      if (path === '/v1/chat/completions') {
        if (method !== 'POST') throw new OpenAiError(405, `Method ${method} is not allowed on /v1/chat/completions. Fix: use POST`, null, 'method_not_allowed');
        return await this.chat(req, res);
      }
      throw new OpenAiError(404, `Nothing at ${url.pathname}. Fix: the OpenAI-compatible routes are GET /v1/models and POST /v1/chat/completions`, null, 'unknown_url');
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const e = toOpenAiError(err);
      if (e.status >= 500) this.o.logger.error('openai endpoint request failed', { path: url.pathname, error: errorMessage(err) });
      send(res, e.status, { error: { message: e.message, type: e.type, param: e.param, code: e.code } }, { ...e.headers, ...(e.status === 413 ? { connection: 'close' } : {}) });
    }
  }

  /** Disposes every loaded backbone once its queued requests are done. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map((s) => this.dispose(s)));
  }

  private authenticate(req: IncomingMessage): void {
    try {
      this.o.auth.authenticate(req.headers.authorization); // any role: viewers may ask for completions
    } catch (err) {
      if (err instanceof MedadError && err.details.auth === UNAUTHENTICATED.auth) {
        throw new OpenAiError(401, err.message, null, 'invalid_api_key', 'invalid_request_error', { 'www-authenticate': 'Bearer' });
      }
      throw err;
    }
  }

  private async listModels(): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = Object.entries(this.o.models).map(([id, dir]) => ({
      id,
      object: 'model',
      created: 0,
      owned_by: 'medad',
      medad: { source: 'config', kind: isJudgeDir(dir) ? 'judge' : 'policy' },
    }));
    const { runs } = await this.o.store.listRuns({ kinds: [RunKind.Sft, RunKind.ConGrpo], first: LISTED_RUNS });
    const checkpoints = await Promise.all(runs.map((r) => this.o.store.checkpoints(r.id)));
    runs.forEach((run, i) => {
      const latest = checkpoints[i]!.at(-1);
      if (latest && !Object.hasOwn(this.o.models, run.id)) out.push(runModel(run, latest.step));
    });
    return out;
  }

  private async modelEntry(id: string): Promise<Record<string, unknown> | undefined> {
    const run = await this.o.store.getRun(id);
    if (!run || (run.kind !== RunKind.Sft && run.kind !== RunKind.ConGrpo)) return undefined;
    const latest = (await this.o.store.checkpoints(run.id)).at(-1);
    return latest ? runModel(run, latest.step) : undefined;
  }

  private async unknownModel(id: string, why?: string): Promise<OpenAiError> {
    const ids = (await this.listModels()).map((m) => m.id as string);
    const shown = ids.slice(0, 20).join(', ') + (ids.length > 20 ? `, … (${ids.length - 20} more: GET /v1/models)` : '');
    return new OpenAiError(
      404,
      `The model \`${id}\` does not exist${why ? ` (${why})` : ''}; served models: ${shown || '(none)'}. Fix: use one of those names, a training run id with a checkpoint, or add name=path to MEDAD_SERVE_MODELS`,
      'model',
      'model_not_found',
    );
  }

  /** The checkpoint directory behind a model name or run id. */
  private async resolveModel(model: string): Promise<ResolvedModel> {
    let dir: string;
    if (Object.hasOwn(this.o.models, model)) dir = this.o.models[model]!;
    else {
      const run = await this.o.store.getRun(model);
      if (!run) throw await this.unknownModel(model);
      if (run.kind !== RunKind.Sft && run.kind !== RunKind.ConGrpo) throw await this.unknownModel(model, `run ${model} is a ${run.kind} run; checkpoints come from SFT and CON_GRPO runs`);
      const latest = (await this.o.store.checkpoints(run.id)).at(-1);
      if (!latest) throw await this.unknownModel(model, `run ${model} is ${run.status} and has no checkpoint yet`);
      try {
        dir = confinePath(latest.path, this.o.checkpointRoots, 'model', 'checkpoint');
      } catch (err) {
        throw new OpenAiError(403, errorMessage(err), 'model', 'forbidden_path');
      }
    }
    if (existsSync(join(dir, 'checkpoint', 'config.json'))) dir = join(dir, 'checkpoint');
    const onnx = join(dir, 'decoder_model.onnx');
    const weights = existsSync(onnx) ? onnx : join(dir, 'model.safetensors');
    if (!existsSync(join(dir, 'config.json')) || !existsSync(weights)) {
      throw new OpenAiError(
        404,
        `The checkpoint of model \`${model}\` is missing: ${dir} has no config.json and model.safetensors (or decoder_model.onnx). Fix: point the model at a training run's directory or its checkpoint/ directory, or wait until the run saves one`,
        'model',
        'model_not_found',
      );
    }
    const st = statSync(weights);
    return { dir, backboneId: weights === onnx ? 'onnx' : 'tfjs-vlm', stamp: `${st.mtimeMs}:${st.size}` };
  }

  /** The loaded (or loading) backbone for a checkpoint, most recently used; evicts beyond the cache size. */
  private slot(m: ResolvedModel): Slot {
    const key = `${m.dir}\0${m.stamp}`;
    let slot = this.slots.get(key);
    if (slot) {
      this.slots.delete(key);
      this.slots.set(key, slot);
      return slot;
    }
    if (!this.o.registry.has('backbone', m.backboneId)) {
      throw new OpenAiError(503, `The ${m.backboneId} backbone plugin is not loaded in this server, so ${m.dir} cannot be served. Fix: build the plugins (npm run build) and restart the server`, 'model', 'backbone_unavailable');
    }
    const config = m.backboneId === 'onnx' ? { dir: m.dir } : { checkpoint: m.dir };
    const backbone = this.o.registry.create('backbone', m.backboneId, config, createRootContainer());
    slot = { key, dir: m.dir, backboneId: m.backboneId, backbone, tail: backbone.then(() => undefined, () => undefined), pending: 0 };
    const created = slot;
    backbone.then(
      () => this.o.logger.info('openai endpoint loaded a model', { dir: m.dir, backbone: m.backboneId }),
      (err: unknown) => {
        if (this.slots.get(key) === created) this.slots.delete(key); // a later request tries again
        this.o.logger.warn('openai endpoint could not load a model', { dir: m.dir, error: errorMessage(err) });
      },
    );
    // An overwritten checkpoint (newer weights at the same directory) replaces the old one at once.
    for (const old of [...this.slots.values()]) if (old.dir === m.dir) this.evict(old);
    this.slots.set(key, slot);
    while (this.slots.size > this.cacheSize) this.evict(this.slots.values().next().value!);
    return slot;
  }

  private evict(slot: Slot): void {
    if (this.slots.get(slot.key) === slot) this.slots.delete(slot.key);
    void this.dispose(slot);
  }

  private async dispose(slot: Slot): Promise<void> {
    await slot.tail;
    const backbone = await slot.backbone.catch(() => undefined);
    try {
      await backbone?.dispose?.();
    } catch (err) {
      this.o.logger.warn('openai endpoint: disposing a model failed', { dir: slot.dir, error: errorMessage(err) });
    }
  }

  /** Runs `task` after everything already queued on the model (one generation at a time per model). */
  private enqueue<T>(slot: Slot, task: (backbone: Backbone) => Promise<T>): Promise<T> {
    if (slot.pending >= this.maxQueue) {
      throw new OpenAiError(429, `${slot.pending} requests are already waiting for this model. Fix: retry later (after the Retry-After seconds) or send fewer requests at once`, null, 'rate_limit_exceeded', 'requests', { 'retry-after': '1' });
    }
    slot.pending++;
    const result = slot.tail.then(async () => task(await slot.backbone));
    // Yield to I/O between generations so GraphQL and other requests are served in between.
    slot.tail = result.then(nextTick, nextTick);
    return result.finally(() => slot.pending--);
  }

  /** The directory of a served learned judge named by the request's `model`, if it names one. */
  private judgeModelDir(body: unknown): string | undefined {
    const model = (body as { model?: unknown } | null)?.model;
    if (typeof model !== 'string' || !Object.hasOwn(this.o.models, model)) return undefined;
    const dir = this.o.models[model]!;
    return isJudgeDir(dir) ? dir : undefined;
  }

  /** The loaded learned judge of a checkpoint directory (reloaded when its judge.json changes). */
  private judge(dir: string): Promise<Judge> {
    const st = statSync(join(dir, 'judge.json'));
    const key = `${dir}\0${st.mtimeMs}:${st.size}`;
    let judge = this.judges.get(key);
    if (!judge) {
      if (!this.o.registry.has('judge', 'learned')) {
        throw new OpenAiError(503, `The learned judge plugin is not loaded in this server, so ${dir} cannot be served. Fix: build the plugins (npm run build) and restart the server`, 'model', 'judge_unavailable');
      }
      for (const old of [...this.judges.keys()]) if (old.startsWith(`${dir}\0`)) this.judges.delete(old);
      judge = this.o.registry.create('judge', 'learned', { checkpoint: dir }, createRootContainer());
      judge.catch(() => this.judges.delete(key));
      this.judges.set(key, judge);
    }
    return judge;
  }

  /** A judge prompt answered by a learned judge: the deduced letter, or NONE. */
  private async judgeChat(res: ServerResponse, b: Record<string, unknown>, dir: string): Promise<void> {
    if (b.stream === true) throw badRequest('stream', 'streaming is not supported by this server', 'send "stream": false (or leave it out)', 'unsupported_value');
    if (!Array.isArray(b.messages) || b.messages.length === 0) throw badRequest('messages', 'must be a non-empty array', 'send [{ "role": "user", "content": "Question: …\\nOptions:\\n(A) …\\n<reasoning>…</reasoning>" }]');
    const n = optionalNumber(b, 'n', 1, MAX_CHOICES, true) ?? 1;
    const parsed = parseJudgePrompt(b.messages as Parameters<typeof parseJudgePrompt>[0]);
    if (!parsed.ok) {
      throw badRequest('messages', `this model is a learned judge and cannot read a judge prompt: ${parsed.problem}`, 'send "Question: …", option lines "(A) …" to "(D) …" and the reasoning inside <reasoning>…</reasoning> (what the openai judge plugin sends)', 'invalid_prompt');
    }
    if (this.closed) throw new OpenAiError(503, 'The server is shutting down. Fix: retry against a running server', null, 'server_shutting_down');
    const [letter] = await (await this.judge(dir)).deduce([parsed.input]);
    const content = letter ?? 'NONE';
    const promptCount = [parsed.input.question, ...parsed.input.options, parsed.input.think].join(' ').split(/\s+/).filter(Boolean).length;
    send(res, 200, {
      id: `chatcmpl-${randomBytes(12).toString('hex')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: b.model,
      system_fingerprint: 'medad-judge-learned',
      choices: Array.from({ length: n }, (_, index) => ({ index, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' })),
      usage: { prompt_tokens: promptCount, completion_tokens: n, total_tokens: promptCount + n },
    });
  }

  private async chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const retryAfter = this.o.rateLimit?.take(callerKey(req.headers.authorization, req));
    if (retryAfter !== undefined) {
      throw new OpenAiError(429, rateLimitMessage('chat completions', this.o.rateLimit!.perMinute, retryAfter), null, 'rate_limit_exceeded', 'requests', { 'retry-after': String(retryAfter) });
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const max = this.o.maxBodyBytes;
    const text = await readBody(req, max, (declared) =>
      new OpenAiError(413, `Request body${declared === undefined ? '' : ` of ${declared} bytes`} exceeds the limit of ${max} bytes. Fix: send a smaller image (or raise the server's MEDAD_MAX_BODY_BYTES)`, null, 'request_too_large'),
    );
    if (type !== 'application/json') throw new OpenAiError(415, `Content-Type "${type || '(none)'}" is not supported. Fix: send the request as application/json`, null, 'unsupported_media_type');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw badRequest(null, 'the request body is not valid JSON', 'send { "model": "...", "messages": [...] } as JSON', 'invalid_json');
    }
    const judgeDir = this.judgeModelDir(body);
    if (judgeDir) return await this.judgeChat(res, body as Record<string, unknown>, judgeDir);
    // The model first (404 before any 400 about the messages), then the messages and the image.
    const named = (body as { model?: unknown } | null)?.model;
    const found = typeof named === 'string' && named ? await this.resolveModel(named) : undefined;
    const r = parseChatRequest(body);
    if (this.closed) throw new OpenAiError(503, 'The server is shutting down. Fix: retry against a running server', null, 'server_shutting_down');
    const model = found ?? (await this.resolveModel(r.model));
    const slot = this.slot(model);
    const prompt = { sample: chatSample(r.question), image: r.image };
    const greedy = r.temperature === 0;
    const seed = r.seed ?? (greedy ? 0 : randomInt(0, 2 ** 32));
    const { completions, promptCount } = await this.enqueue(slot, async (backbone) => {
      const groups = await backbone.generate([prompt], { groupSize: r.n, greedy, temperature: r.temperature, topP: greedy ? undefined : r.topP, maxTokens: r.maxTokens, seed });
      return { completions: groups[0] ?? [], promptCount: promptTokens(backbone, prompt) };
    }).catch((err: unknown) => {
      if (err instanceof OpenAiError) throw err;
      if (err instanceof MedadError && err.code !== ErrorCode.Internal) throw toOpenAiError(err);
      throw new OpenAiError(500, `Generation with ${model.dir} failed: ${errorMessage(err)}`, null, 'generation_failed');
    });
    const choices = completions.map((c: Completion, index) => {
      const cut = cutAtStop(c.text, r.stop);
      return { index, message: { role: 'assistant', content: cut.text }, logprobs: null, finish_reason: cut.stopped || c.finished ? 'stop' : 'length' };
    });
    const completionTokens = completions.reduce((n, c) => n + c.tokens.length, 0);
    send(res, 200, {
      id: `chatcmpl-${randomBytes(12).toString('hex')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: r.model,
      system_fingerprint: `medad-${model.backboneId}`,
      choices,
      usage: { prompt_tokens: promptCount, completion_tokens: completionTokens, total_tokens: promptCount + completionTokens },
    });
  }
}

/** A learned-judge checkpoint: a directory holding `judge.json` (written by `medad train judge`). */
function isJudgeDir(dir: string): boolean {
  return existsSync(join(dir, 'judge.json'));
}

function runModel(run: RunRecord, step: number): Record<string, unknown> {
  return { id: run.id, object: 'model', created: Math.floor(run.createdAt.getTime() / 1000), owned_by: 'medad', medad: { source: 'run', kind: run.kind, status: run.status, step } };
}

function cutAtStop(text: string, stop: readonly string[]): { text: string; stopped: boolean } {
  let at = -1;
  for (const s of stop) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at < 0 ? { text, stopped: false } : { text: text.slice(0, at), stopped: true };
}

function toOpenAiError(err: unknown): OpenAiError {
  if (err instanceof OpenAiError) return err;
  if (err instanceof MedadError) {
    const status =
      err.code === ErrorCode.NotFound ? 404
      : err.code === ErrorCode.Forbidden ? 403
      : err.code === ErrorCode.Conflict ? 409
      : err.code === ErrorCode.Internal || err.code === ErrorCode.Cancelled ? 500
      : 400;
    const field = typeof err.details.field === 'string' ? err.details.field : null;
    return new OpenAiError(status, err.message, field, err.code.toLowerCase());
  }
  return new OpenAiError(500, 'Internal server error (see the server log)', null, 'internal_error');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}
