/** Walks a dataset directory: regular files in sorted order; symlinks and special files are listed as skipped. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** A regular file of the dataset, by path relative to the root. */
export interface DatasetFile {
  rel: string;
  abs: string;
  size: number;
}

/** Lists the files under `root` (sorted by relative path, `/` separated); symlinks are not followed. */
export async function walkDataset(root: string): Promise<{
  files: DatasetFile[];
  skipped: Array<{ path: string; reason: string }>;
  errors: Array<{ path: string; message: string }>;
}> {
  const files: DatasetFile[] = [];
  const skipped: Array<{ path: string; reason: string }> = [];
  const errors: Array<{ path: string; message: string }> = [];
  const visit = async (dir: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (e) {
      errors.push({
        path: rel || '.',
        message: `cannot read directory: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      });
      return;
    }
    for (const name of names) {
      const abs = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(abs);
      if (st.isSymbolicLink()) skipped.push({ path: r, reason: 'symbolic link (not followed)' });
      else if (st.isDirectory()) await visit(abs, r);
      else if (st.isFile()) files.push({ rel: r, abs, size: st.size });
      else skipped.push({ path: r, reason: 'not a regular file' });
    }
  };
  await visit(root, '');
  return { files, skipped, errors };
}
