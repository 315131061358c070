// Builder configuration: sources, precedence, validation and path resolution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, DEFAULT_TYPES } from '../src/core/config.js';
import { ExtError } from '../src/core/errors.js';
import { tempDir } from './helpers/repo.js';

function code(fn: () => unknown): string {
  try { fn(); } catch (e) { if (e instanceof ExtError) return e.code; throw e; }
  return 'none';
}

test('no configuration: default types, no template values', () => {
  const c = loadConfig({ env: {}, builderDir: tempDir() });
  assert.deepEqual(c.types, DEFAULT_TYPES);
  assert.deepEqual(c.template, {});
  assert.deepEqual(c.sources, []);
});

test('config.json in the builder dir; relative TLS paths resolve against it', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ types: ['CCAAS'], tls: { root_cert_file: 'tls/ca.crt', client_key_file: '/abs/k' } }));
  const c = loadConfig({ env: {}, builderDir: dir });
  assert.deepEqual(c.types, ['ccaas']);
  assert.equal(c.tls.root_cert_file, join(dir, 'tls/ca.crt'));
  assert.equal(c.tls.client_key_file, '/abs/k');
});

test('EXTBUILDER_CONFIG (inline or a file) takes the place of config.json', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ types: ['fromfile'] }));
  assert.deepEqual(loadConfig({ env: { EXTBUILDER_CONFIG: ' {"types":["inline"]}' }, builderDir: dir }).types, ['inline']);
  const other = tempDir();
  mkdirSync(join(other, 'etc'));
  writeFileSync(join(other, 'etc', 'cfg.json'), JSON.stringify({ types: ['named'], tls: { root_cert_file: 'ca.crt' } }));
  const c = loadConfig({ env: { EXTBUILDER_CONFIG: join(other, 'etc', 'cfg.json') }, builderDir: dir });
  assert.deepEqual(c.types, ['named']);
  assert.equal(c.tls.root_cert_file, join(other, 'etc', 'ca.crt'));
});

test('template values: EXTBUILDER_CONFIG wins over CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG per key', () => {
  const c = loadConfig({
    env: { EXTBUILDER_CONFIG: '{"template":{"peername":"mine"}}', CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: '{"peername":"theirs","port":"9999"}' },
    builderDir: tempDir(),
  });
  assert.deepEqual(c.template, { peername: 'mine', port: '9999' });
  assert.equal(c.sources.length, 2);
});

test('bad configuration fails with a coded error', () => {
  const dir = tempDir();
  assert.equal(code(() => loadConfig({ env: { EXTBUILDER_CONFIG: '{"typo": 1}' }, builderDir: dir })), 'CONFIG_INVALID');
  assert.equal(code(() => loadConfig({ env: { EXTBUILDER_CONFIG: '{"types": []}' }, builderDir: dir })), 'CONFIG_INVALID');
  assert.equal(code(() => loadConfig({ env: { EXTBUILDER_CONFIG: '{"types": 1' }, builderDir: dir })), 'CONFIG_PARSE');
  assert.equal(code(() => loadConfig({ env: { EXTBUILDER_CONFIG: '/no/such/file.json' }, builderDir: dir })), 'CONFIG_READ');
  assert.equal(code(() => loadConfig({ env: { CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: '"x"' }, builderDir: dir })), 'CONFIG_INVALID');
  assert.equal(code(() => loadConfig({ env: { CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: '{x' }, builderDir: dir })), 'CONFIG_PARSE');
  writeFileSync(join(dir, 'config.json'), '{"tls": {"root_cert": "x"}}');
  assert.equal(code(() => loadConfig({ env: {}, builderDir: dir })), 'CONFIG_INVALID');
});
