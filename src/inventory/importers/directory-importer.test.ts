import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { createFingerprinter } from '../../core/fingerprint.js';
import { directoryImporter, normaliseStatus } from './directory-importer.js';

const ctx = { fingerprinter: createFingerprinter(Buffer.alloc(32, 7)), now: '2025-06-01T00:00:00.000Z' };
const fixture = (name: string): Buffer =>
  readFileSync(new URL(`./fixtures/directory/${name}`, import.meta.url));
const parse = (fileName: string, content: Buffer | string) =>
  directoryImporter.parse(
    { fileName, content: Buffer.isBuffer(content) ? content : Buffer.from(content) },
    ctx,
  );

function importError(fileName: string, content: Buffer | string): ValidationError {
  try {
    parse(fileName, content);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('KW_INVALID_IMPORT');
    return err as ValidationError;
  }
  throw new Error('expected the import to fail');
}

describe('directory importer', () => {
  it('reads an HR CSV with synonym columns; a past termination date means the person left', () => {
    const batch = parse('people.csv', fixture('hr-export.csv'));
    expect(batch.people).toEqual([
      {
        email: 'dana@example.com',
        name: 'Dana Whitfield',
        status: 'active',
        department: 'Platform Engineering',
        manager: 'morgan@example.com',
        leftAt: null,
      },
      {
        email: 'sam.okafor@example.com',
        name: 'Sam Okafor',
        status: 'left',
        department: 'Build & Release',
        manager: 'morgan@example.com',
        leftAt: '2025-03-14T00:00:00.000Z',
      },
      {
        email: 'jordan.lee@example.com',
        name: 'Lee, Jordan',
        status: 'suspended',
        department: 'Payments',
        manager: 'priya@example.com',
        leftAt: null,
      },
      {
        email: 'priya@example.com',
        name: 'Priya Raman',
        status: 'left',
        department: 'Payments',
        manager: 'morgan@example.com',
        leftAt: '2025-05-30T00:00:00.000Z',
      },
      // Leaving in the future: still active.
      {
        email: 'alex.kim@example.com',
        name: 'Alex Kim',
        status: 'active',
        department: 'Machine Learning',
        manager: 'priya@example.com',
        leftAt: null,
      },
    ]);
    expect(batch.identities).toEqual([]);
    expect(batch.credentials).toEqual([]);
  });

  it("reads Okta's /api/v1/users: profile fields, DEPROVISIONED → left at statusChanged, SUSPENDED, PROVISIONED", () => {
    expect(parse('okta.json', fixture('okta-users.json')).people).toEqual([
      {
        email: 'dana@example.com',
        name: 'Dana Whitfield',
        status: 'active',
        department: 'Platform Engineering',
        manager: 'morgan@example.com',
        leftAt: null,
      },
      {
        email: 'sam.okafor@example.com',
        name: 'Sam Okafor',
        status: 'left',
        department: 'Build & Release',
        manager: null,
        leftAt: '2025-03-14T17:00:00.000Z',
      },
      {
        email: 'jordan.lee@example.com',
        name: 'Jordan Lee',
        status: 'suspended',
        department: 'Payments',
        manager: null,
        leftAt: null,
      },
      {
        email: 'alex.kim@example.com',
        name: 'Alex Kim',
        status: 'active',
        department: null,
        manager: null,
        leftAt: null,
      },
    ]);
  });

  it('reads { users: [...] } with boolean active, and Microsoft Graph and SCIM shapes', () => {
    expect(parse('users.json', fixture('users.json')).people).toEqual([
      {
        email: 'morgan@example.com',
        name: 'Morgan Diaz',
        status: 'active',
        department: 'Engineering Leadership',
        manager: null,
        leftAt: null,
      },
      {
        email: 'former.contractor@example.com',
        name: 'Former Contractor',
        status: 'left',
        department: null,
        manager: null,
        leftAt: '2024-12-20T00:00:00.000Z',
      },
    ]);
    const graph = {
      value: [
        {
          displayName: 'Ana Ruiz',
          mail: null,
          userPrincipalName: 'ana@example.com',
          accountEnabled: false,
          department: 'Sales',
        },
      ],
    };
    expect(parse('graph.json', JSON.stringify(graph)).people).toEqual([
      {
        email: 'ana@example.com',
        name: 'Ana Ruiz',
        status: 'left',
        department: 'Sales',
        manager: null,
        leftAt: null,
      },
    ]);
    const scim = {
      Resources: [
        {
          userName: 'kai',
          name: { givenName: 'Kai', familyName: 'Berg', formatted: 'Kai Berg' },
          emails: [
            { value: 'kai.private@example.org', primary: false },
            { value: 'kai@example.com', primary: true },
          ],
          active: true,
          'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {
            department: 'Security',
            manager: { value: '42', displayName: 'Dana Whitfield' },
          },
        },
      ],
    };
    expect(parse('scim.json', JSON.stringify(scim)).people).toEqual([
      {
        email: 'kai@example.com',
        name: 'Kai Berg',
        status: 'active',
        department: 'Security',
        manager: 'Dana Whitfield',
        leftAt: null,
      },
    ]);
  });

  it('names the row and column of every bad value', () => {
    const err = importError('people.csv', fixture('broken.csv'));
    expect(err.details).toEqual([
      { path: 'people.csv:3 column email', message: 'required email is missing' },
      { path: 'people.csv:4 column email', message: 'not an email address' },
      {
        path: 'people.csv:5 column status',
        message:
          'unknown status; expected active, suspended, terminated, deprovisioned, inactive, true or false',
      },
      { path: 'people.csv:6 column termination_date', message: 'expected a date (YYYY-MM-DD or ISO-8601)' },
    ]);
    expect(err.message).toBe('people.csv:3 column email: required email is missing (and 3 more problems)');
    expect(importError('people.csv', fixture('no-email-column.csv')).message).toBe(
      'people.csv:1: no email column in the header row (looked for email, mail, work_email, email_address, primary_email, user_email, userPrincipalName, upn, login)',
    );
  });

  it('names the record and field of every bad JSON entry', () => {
    expect(importError('people.json', fixture('broken.json')).details).toEqual([
      { path: 'people.json: users[1].email', message: 'required email is missing' },
      { path: 'people.json: users[2]', message: 'expected an object, got string' },
      {
        path: 'people.json: users[3].status',
        message:
          'unknown status; expected active, suspended, terminated, deprovisioned, inactive, true or false',
      },
    ]);
    expect(importError('people.json', '{"org": "acme"}').message).toBe(
      'people.json: expected an array of people, or an object with a "users" (or "value", "Resources") array',
    );
  });

  it('normalises statuses', () => {
    expect(
      [
        'ACTIVE',
        'Terminated',
        'DEPROVISIONED',
        'inactive',
        'false',
        false,
        true,
        'On Leave',
        'SUSPENDED',
        'LOCKED_OUT',
        'unknown',
      ].map(normaliseStatus),
    ).toEqual([
      'active',
      'left',
      'left',
      'left',
      'left',
      'left',
      'active',
      'suspended',
      'suspended',
      'active',
      null,
    ]);
  });
});
