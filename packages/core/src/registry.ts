import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCode, MedadError, errorMessage } from './errors.js';
import {
  PLUGIN_KINDS,
  isPluginDefinition,
  parsePluginConfig,
  type PluginDefinition,
  type PluginKind,
  type PluginKindMap,
} from './plugin.js';
import type { Resolver } from './tokens.js';

/** Where a registered plugin came from. */
export interface PluginSource {
  packageName: string;
  packageDir?: string;
}

/** One row of `medad plugins`. */
export interface PluginListing {
  kind: PluginKind;
  id: string;
  version: string;
  package: string;
  description?: string;
}

/** A package that declared itself a plugin but could not be loaded. */
export interface PluginLoadFailure {
  packageName: string;
  packageDir: string;
  reason: string;
}

interface Entry {
  def: PluginDefinition;
  source: PluginSource;
}

/** Holds plugin definitions by kind and id; creates validated instances. */
export class PluginRegistry {
  private readonly entries = new Map<string, Entry>();

  /** Adds a plugin; a second plugin with the same kind and id is a conflict. */
  register(def: PluginDefinition, source: PluginSource = { packageName: '(inline)' }): this {
    if (!isPluginDefinition(def)) {
      throw new MedadError(ErrorCode.BadUserInput, `Object from ${source.packageName} is not a plugin definition`, {
        fix: 'create plugins with definePlugin() from @medad/core',
      });
    }
    const key = `${def.kind}/${def.id}`;
    const existing = this.entries.get(key);
    if (existing && existing.def !== def) {
      throw new MedadError(
        ErrorCode.Conflict,
        `Two ${def.kind} plugins are named "${def.id}" (${existing.source.packageName} and ${source.packageName})`,
        { fix: 'rename one of them' },
      );
    }
    this.entries.set(key, { def, source });
    return this;
  }

  /** Plugins sorted by kind then id, optionally of one kind. */
  list(kind?: PluginKind): PluginListing[] {
    if (kind !== undefined) assertKind(kind);
    return [...this.entries.values()]
      .filter((e) => kind === undefined || e.def.kind === kind)
      .map((e) => ({
        kind: e.def.kind,
        id: e.def.id,
        version: e.def.version,
        package: e.source.packageName,
        description: e.def.description,
      }))
      .sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
  }

  /** The definition of a plugin; an unknown id fails with the list of known ids. */
  get<K extends PluginKind>(kind: K, id: string): PluginDefinition<K> {
    assertKind(kind);
    const entry = this.entries.get(`${kind}/${id}`);
    if (!entry) {
      const known = this.list(kind).map((p) => p.id);
      throw new MedadError(ErrorCode.NotFound, `Unknown ${kind} plugin "${id}"`, {
        fix: known.length
          ? `use one of: ${known.join(', ')}`
          : `no ${kind} plugins are installed; build the workspace (npm run build) or install one`,
        details: { kind, id, known },
      });
    }
    return entry.def as PluginDefinition<K>;
  }

  has(kind: PluginKind, id: string): boolean {
    return this.entries.has(`${kind}/${id}`);
  }

  /** Validates `config` against the plugin's schema and creates the implementation. */
  async create<K extends PluginKind>(kind: K, id: string, config: unknown, deps: Resolver): Promise<PluginKindMap[K]> {
    const def = this.get(kind, id);
    const parsed = parsePluginConfig(def, config);
    return def.create(deps, parsed);
  }
}

function assertKind(kind: string): asserts kind is PluginKind {
  if (!PLUGIN_KINDS.includes(kind as PluginKind)) {
    throw new MedadError(ErrorCode.BadUserInput, `Unknown plugin kind "${kind}"`, {
      fix: `use one of: ${PLUGIN_KINDS.join(', ')}`,
    });
  }
}

/** The `medad` field a package.json carries to declare itself a plugin package. */
export interface MedadPackageField {
  /** True: the package's main entry exports plugin definitions. */
  plugin?: boolean;
  /** Or: a module path (relative to the package) that exports them. */
  plugins?: string;
}

interface PackageJson {
  name?: string;
  main?: string;
  exports?: unknown;
  workspaces?: string[] | { packages?: string[] };
  medad?: MedadPackageField;
}

function readJson(file: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/** The nearest directory at or above `from` whose package.json declares workspaces (else the nearest package). */
export function findProjectRoot(from: string = process.cwd()): string {
  let dir = resolve(from);
  let nearest: string | undefined;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      nearest ??= dir;
      if (readJson(pkg)?.workspaces) return dir;
    }
    const up = dirname(dir);
    if (up === dir) return nearest ?? resolve(from);
    dir = up;
  }
}

function workspaceDirs(root: string): string[] {
  const pkg = readJson(join(root, 'package.json'));
  const ws = pkg?.workspaces;
  const patterns = Array.isArray(ws) ? ws : (ws?.packages ?? []);
  const dirs: string[] = [];
  for (const pattern of patterns) {
    if (pattern.endsWith('/*')) {
      const base = join(root, pattern.slice(0, -2));
      if (!existsSync(base)) continue;
      for (const name of readdirSync(base)) dirs.push(join(base, name));
    } else {
      dirs.push(join(root, pattern));
    }
  }
  return dirs;
}

function nodeModuleDirs(root: string): string[] {
  const nm = join(root, 'node_modules');
  if (!existsSync(nm)) return [];
  const dirs: string[] = [];
  for (const name of readdirSync(nm)) {
    if (name.startsWith('.')) continue;
    const full = join(nm, name);
    if (name.startsWith('@')) {
      for (const sub of safeReaddir(full)) dirs.push(join(full, sub));
    } else {
      dirs.push(full);
    }
  }
  return dirs;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function entryFile(dir: string, pkg: PackageJson): string {
  if (pkg.medad?.plugins) return join(dir, pkg.medad.plugins);
  const exp = pkg.exports as Record<string, unknown> | string | undefined;
  if (typeof exp === 'string') return join(dir, exp);
  const dot = exp && typeof exp === 'object' ? (exp['.'] as Record<string, string> | string | undefined) : undefined;
  if (typeof dot === 'string') return join(dir, dot);
  if (dot && typeof dot === 'object') {
    const target = dot['import'] ?? dot['default'] ?? dot['require'];
    if (typeof target === 'string') return join(dir, target);
  }
  return join(dir, pkg.main ?? 'index.js');
}

/** Result of {@link discoverPlugins}. */
export interface DiscoveryResult {
  registry: PluginRegistry;
  failures: PluginLoadFailure[];
}

/**
 * Finds plugin packages (workspace packages and node_modules packages whose package.json has a
 * `medad` field with `plugin: true` or `plugins: "<module>"`), imports them and registers every
 * exported plugin definition. Packages that fail to load are reported, not fatal.
 */
export async function discoverPlugins(options: { root?: string | string[]; registry?: PluginRegistry } = {}): Promise<DiscoveryResult> {
  const starts = Array.isArray(options.root) ? options.root : [options.root ?? process.cwd()];
  const roots = [...new Set(starts.map((s) => findProjectRoot(s)))];
  const registry = options.registry ?? new PluginRegistry();
  const failures: PluginLoadFailure[] = [];
  const seen = new Set<string>();
  for (const dir of roots.flatMap((root) => [...workspaceDirs(root), ...nodeModuleDirs(root)])) {
    let real: string;
    try {
      if (!statSync(dir).isDirectory()) continue;
      real = realpathSync(dir);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const pkg = readJson(join(real, 'package.json'));
    if (!pkg?.medad || !(pkg.medad.plugin || pkg.medad.plugins)) continue;
    const packageName = pkg.name ?? real;
    const file = entryFile(real, pkg);
    if (!existsSync(file)) {
      failures.push({ packageName, packageDir: real, reason: `entry ${file} does not exist; build it (npm run build)` });
      continue;
    }
    try {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const value of Object.values(mod)) {
        const defs = Array.isArray(value) ? value : [value];
        for (const def of defs) if (isPluginDefinition(def)) registry.register(def, { packageName, packageDir: real });
      }
    } catch (err) {
      failures.push({ packageName, packageDir: real, reason: errorMessage(err) });
    }
  }
  return { registry, failures };
}
