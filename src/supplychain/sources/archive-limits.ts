import { ValidationError } from '../../core/errors.js';

/** Bounds on what the package readers accept, so a hostile archive or directory cannot exhaust memory or time. */
export interface ArchiveLimits {
  /** Most entries (files, directories, links) in one package. */
  maxEntries: number;
  /** Largest single file, in bytes. */
  maxFileBytes: number;
  /** Most bytes unpacked in total (the whole tar stream for a tarball, the sum of file sizes for a directory). */
  maxTotalBytes: number;
  /** Largest unpacked/compressed ratio of a tarball, enforced once more than `ratioFloorBytes` are unpacked. */
  maxRatio: number;
}

/** The default limits: 20,000 entries, 64 MiB per file, 512 MiB unpacked, ratio 200. */
export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxEntries: 20_000,
  maxFileBytes: 64 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  maxRatio: 200,
});

/** The ratio limit applies only once this many bytes are unpacked (small archives of text compress well). */
export const RATIO_FLOOR_BYTES = 10 * 1024 * 1024;

/** A package archive or directory was refused: unsafe path, limit exceeded, corrupt data or a bad package.json. */
export class ArchiveError extends ValidationError {
  /** The archive or directory concerned. */
  readonly location: string;

  constructor(location: string, message: string, options: { cause?: unknown; entry?: string } = {}) {
    super(message, {
      cause: options.cause,
      details: [{ path: options.entry === undefined ? location : `${location}:${options.entry}`, message }],
    });
    this.location = location;
  }
}

/** Fills unset limits with the defaults and checks the given ones are positive numbers. */
export function resolveLimits(limits: Partial<ArchiveLimits> | undefined): ArchiveLimits {
  const out = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  for (const [key, value] of Object.entries(out)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new ValidationError(`archive limit ${key} must be a positive number`, {
        details: [{ path: `limits.${key}`, message: 'must be a positive number' }],
      });
    }
  }
  return out;
}
