import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_REGISTRY, loadNpmConfig } from './npmrc-config.js';
import { RegistryError } from './registry-errors.js';

let cwd: string;
let home: string;
let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'kw-npmrc-'));
  cwd = path.join(tmp, 'project');
  home = path.join(tmp, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadNpmConfig', () => {
  it('defaults to the public registry', () => {
    const config = loadNpmConfig({ cwd, home, env: {} });
    expect(config.registry).toBe(DEFAULT_REGISTRY);
    expect(config.files).toEqual([]);
    expect(config.tokenFor('https://registry.npmjs.org/x')).toBeNull();
  });

  it('applies env over project over user', () => {
    writeFileSync(
      path.join(home, '.npmrc'),
      'registry=https://user.example/npm\n@u:registry=https://u.example/\n',
    );
    expect(loadNpmConfig({ cwd, home, env: {} }).registry).toBe('https://user.example/npm/');
    writeFileSync(path.join(cwd, '.npmrc'), 'registry=https://project.example/\n');
    const project = loadNpmConfig({ cwd, home, env: {} });
    expect(project.registry).toBe('https://project.example/');
    expect(project.registryFor('@u/x')).toBe('https://u.example/');
    expect(project.files).toEqual([path.join(home, '.npmrc'), path.join(cwd, '.npmrc')]);
    expect(loadNpmConfig({ cwd, home, env: { NPM_CONFIG_REGISTRY: 'https://env.example' } }).registry).toBe(
      'https://env.example/',
    );
    expect(loadNpmConfig({ cwd, home, env: { npm_config_registry: 'https://env2.example/' } }).registry).toBe(
      'https://env2.example/',
    );
  });

  it('honours npm_config_userconfig', () => {
    const other = path.join(tmp, 'other.npmrc');
    writeFileSync(other, 'registry=https://other.example/\n');
    writeFileSync(path.join(home, '.npmrc'), 'registry=https://user.example/\n');
    expect(loadNpmConfig({ cwd, home, env: { npm_config_userconfig: other } }).registry).toBe(
      'https://other.example/',
    );
  });

  it('routes scopes and matches tokens by host and path prefix', () => {
    writeFileSync(
      path.join(cwd, '.npmrc'),
      [
        '@corp:registry=https://npm.corp.example/private',
        '//npm.corp.example/private/:_authToken=${CORP_TOKEN}',
        '//registry.npmjs.org/:_authToken=public-token',
        '//NPM.corp.example/:_authToken=host-wide',
      ].join('\n'),
    );
    const config = loadNpmConfig({ cwd, home, env: { CORP_TOKEN: 'corp-secret' } });
    expect(config.registryFor('@corp/lib')).toBe('https://npm.corp.example/private/');
    expect(config.registryFor('@other/lib')).toBe(DEFAULT_REGISTRY);
    expect(config.registryFor('plain')).toBe(DEFAULT_REGISTRY);
    expect(config.tokenFor('https://npm.corp.example/private/@corp%2flib')).toBe('corp-secret');
    expect(config.tokenFor('https://npm.corp.example/public/x')).toBe('host-wide');
    expect(config.tokenFor('https://registry.npmjs.org/left-pad')).toBe('public-token');
    expect(config.tokenFor('https://registry.npmjs.org.evil.example/left-pad')).toBeNull();
    expect(config.tokenFor('https://npm.corp.example:8443/private/x')).toBeNull();
    expect(JSON.stringify(config)).not.toContain('secret');
  });

  it('refuses an unset ${VAR} but allows ${VAR?}', () => {
    const file = path.join(cwd, '.npmrc');
    writeFileSync(file, '//r.example/:_authToken=${NOPE}\n');
    expect(() => loadNpmConfig({ cwd, home, env: {} })).toThrow(RegistryError);
    expect(() => loadNpmConfig({ cwd, home, env: {} })).toThrow(
      `${file}: //r.example/:_authToken uses the environment variable NOPE, which is not set`,
    );
    writeFileSync(file, '//r.example/:_authToken=${NOPE?}\n');
    expect(loadNpmConfig({ cwd, home, env: {} }).tokenFor('https://r.example/x')).toBeNull();
  });

  it('refuses a registry that is not an http(s) URL', () => {
    writeFileSync(path.join(cwd, '.npmrc'), 'registry=file:///etc\n');
    expect(() => loadNpmConfig({ cwd, home, env: {} })).toThrow(
      'npm configuration: registry must be an http or https URL',
    );
  });
});
