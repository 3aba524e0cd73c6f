import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetRecord } from '../domain.js';
import { confinePath } from '../http/paths.js';
import type { Store } from '../store/store.js';

function readInfo(dir: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Datasets the control plane knows: those built by runs plus any dataset directory found under the dataset roots. */
export class DatasetService {
  constructor(
    private readonly store: Store,
    private readonly roots: readonly string[],
  ) {}

  /** Registers directories `<root>/<name>/` holding a `samples.jsonl` that are not known yet. */
  async scanRoots(): Promise<number> {
    const known = new Set((await this.store.datasets()).map((d) => d.path));
    let added = 0;
    for (const root of this.roots) {
      if (!existsSync(root)) continue;
      for (const name of readdirSync(root)) {
        const dir = join(root, name);
        if (known.has(dir) || !existsSync(join(dir, 'samples.jsonl'))) continue;
        // A symlink (or a link inside) leading out of the roots is not a dataset of this server.
        if (!this.confined(dir)) continue;
        const id = (await this.store.datasets()).some((d) => d.id === name) ? `${name}-${added + 1}` : name;
        await this.store.upsertDataset({ id, name, path: dir, runId: null, info: readInfo(dir), createdAt: statSync(dir).mtime });
        added++;
      }
    }
    return added;
  }

  /** All datasets, oldest first (roots are rescanned first). */
  async list(): Promise<DatasetRecord[]> {
    await this.scanRoots();
    return this.store.datasets();
  }

  /** A dataset by id, or undefined; one whose directory now resolves outside the roots (a symlink swapped in) is not handed out. */
  async get(id: string): Promise<DatasetRecord | undefined> {
    const found = (await this.list()).find((d) => d.id === id);
    return found && this.confined(found.path) ? found : undefined;
  }

  /** True when `dir`, symlinks resolved, lies inside a dataset root. */
  private confined(dir: string): boolean {
    try {
      confinePath(dir, this.roots, 'dataset', 'dataset');
      return true;
    } catch {
      return false;
    }
  }
}
