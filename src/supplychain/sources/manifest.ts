import { ArchiveError } from './archive-limits.js';

/** A package.json that passed the checks every reader needs. */
export interface ParsedManifest {
  name: string;
  version: string;
  manifest: Record<string, unknown>;
}

/** Parses package.json bytes; a missing, non-JSON or non-object file, or one without string name/version, is refused. */
export function parseManifest(location: string, bytes: Uint8Array | undefined): ParsedManifest {
  if (bytes === undefined) {
    throw new ArchiveError(location, `${location}: package has no package.json at its top`, {
      entry: 'package.json',
    });
  }
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ArchiveError(location, `${location}: package.json is not valid JSON (${reason})`, {
      entry: 'package.json',
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ArchiveError(location, `${location}: package.json is not a JSON object`, {
      entry: 'package.json',
    });
  }
  const manifest = parsed as Record<string, unknown>;
  for (const field of ['name', 'version'] as const) {
    const value = manifest[field];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ArchiveError(location, `${location}: package.json has no "${field}" string`, {
        entry: 'package.json',
      });
    }
  }
  return { name: manifest['name'] as string, version: manifest['version'] as string, manifest };
}
