import { describe, expect, it } from 'vitest';
import { isBrokenRecord } from './event-common.js';
import {
  createMappingAdapter,
  FieldMappingError,
  loadFieldMapping,
  parseFieldMapping,
} from './mapping-adapter.js';

/** The problems a mapping text is refused for. */
function problems(text: string): string[] {
  try {
    parseFieldMapping(text, 'm.yaml');
  } catch (err) {
    if (err instanceof FieldMappingError) return err.problems;
    throw err;
  }
  throw new Error('accepted');
}

describe('parseFieldMapping', () => {
  it('reads a minimal mapping with defaults', () => {
    expect(parseFieldMapping('logsource: {product: vault}\ntimestamp: {field: time}\n')).toEqual({
      logsource: { product: 'vault' },
      id: null,
      timestamp: { field: 'time', format: 'auto' },
      fields: {},
    });
  });

  it('names every problem with its path', () => {
    expect(problems('logsource: {}\ntimestamp: {field: t, format: rfc2822}\nextra: 1\n')).toEqual([
      'logsource: must name at least one of product, service, category',
      'timestamp.format: Invalid option: expected one of "iso8601"|"epoch_ms"|"epoch_s"|"auto"',
      '(top): Unrecognized key: "extra"',
    ]);
    expect(
      problems('logsource: {product: x}\ntimestamp: {field: t}\nfields: {"Actor Name": actor}\n'),
    ).toEqual(['fields.Actor Name: normalized field names are lower-case dotted words (actor.user.name)']);
    expect(problems('logsource: {product: x}\ntimestamp: {field: t}\nfields: {time: t}\n')).toEqual([
      'fields.time: set by timestamp, not fields',
    ]);
    expect(problems('logsource: [\n')[0]).toMatch(/^not YAML: /);
  });

  it('a missing file is a FieldMappingError naming it', async () => {
    await expect(loadFieldMapping('/nonexistent/m.yaml')).rejects.toThrow(
      '/nonexistent/m.yaml: invalid field mapping: cannot read: ENOENT',
    );
  });
});

describe('createMappingAdapter', () => {
  const mapping = parseFieldMapping(
    [
      'logsource: {product: vault, service: audit}',
      'id: request.id',
      'timestamp: {field: time, format: iso8601}',
      'fields:',
      '  actor.user.name: auth.display_name',
      '  api.operation: request.operation',
      '  resource.uid: request.path',
      '  status: {field: error, values: {"": success}}',
    ].join('\n'),
  );
  const adapter = createMappingAdapter(mapping);
  const src = { file: 'vault.log', line: 9, seq: 3 };

  it('maps nested paths; fields absent from the record are absent from the event', () => {
    const e = adapter(
      {
        time: '2026-05-10T09:00:00.5Z',
        auth: { display_name: 'approle-ci' },
        request: { id: 'req-1', operation: 'read', path: 'secret/data/prod/db' },
      },
      src,
    );
    if (isBrokenRecord(e)) throw new Error(e.reason);
    expect(e).toMatchObject({ id: 'req-1', time: Date.parse('2026-05-10T09:00:00.500Z'), seq: 3 });
    expect(e.logsource).toEqual({ product: 'vault', service: 'audit' });
    expect(e.fields).toEqual({
      time: '2026-05-10T09:00:00.500Z',
      'actor.user.name': 'approle-ci',
      'api.operation': 'read',
      'resource.uid': 'secret/data/prod/db',
    });
  });

  it('reports records without the timestamp, or with one in another format', () => {
    expect(adapter({ request: {} }, src)).toEqual({
      file: 'vault.log',
      line: 9,
      reason: 'no timestamp (time)',
    });
    expect(adapter({ time: 1778403600 }, src)).toEqual({
      file: 'vault.log',
      line: 9,
      reason: 'invalid timestamp (time): 1778403600',
    });
    expect(adapter(42, src)).toEqual({ file: 'vault.log', line: 9, reason: 'not an object (number)' });
  });
});
