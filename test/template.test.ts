// {{.key}} rendering: lookups, whitespace, nesting, and the errors a user can hit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeholders, render } from '../src/core/template.js';
import { ExtError } from '../src/core/errors.js';

const data = { peername: 'peer0org1', port: 7052, tls: true, org: { msp: 'Org1MSP', deep: { x: 'y' } }, obj: { a: 1 }, nul: null };

test('renders lookups with and without spaces, nested keys, numbers and booleans', () => {
  assert.equal(render('{{.peername}}-cc:{{ .port }}', data, 'f', 'h'), 'peer0org1-cc:7052');
  assert.equal(render('{{.org.msp}}/{{ .org.deep.x}}/{{.tls}}', data, 'f', 'h'), 'Org1MSP/y/true');
  assert.equal(render('no placeholders', data, 'f', 'h'), 'no placeholders');
});

function code(fn: () => unknown): string {
  try { fn(); } catch (e) { if (e instanceof ExtError) return e.code; throw e; }
  return 'none';
}

test('a missing key names the key and where values come from', () => {
  try {
    render('{{.nope}}:1', data, 'connection.json field address', 'set it in template');
    assert.fail('must throw');
  } catch (e) {
    assert.ok(e instanceof ExtError);
    assert.equal(e.code, 'TEMPLATE_MISSING_KEY');
    assert.match(e.what, /\{\{\.nope\}\}.*"nope"/);
    assert.equal(e.fix, 'set it in template');
  }
  assert.equal(code(() => render('{{.org.nope}}', data, 'f', 'h')), 'TEMPLATE_MISSING_KEY');
  assert.equal(code(() => render('{{.peername.x}}', data, 'f', 'h')), 'TEMPLATE_MISSING_KEY');
  assert.equal(code(() => render('{{.toString}}', data, 'f', 'h')), 'TEMPLATE_MISSING_KEY', 'inherited properties are not values');
});

test('syntax beyond lookups, unbalanced braces and non-scalar values are refused', () => {
  assert.equal(code(() => render('{{if .x}}a{{end}}', data, 'f', 'h')), 'TEMPLATE_SYNTAX');
  assert.equal(code(() => render('{{.a | upper}}', data, 'f', 'h')), 'TEMPLATE_SYNTAX');
  assert.equal(code(() => render('{{.peername', data, 'f', 'h')), 'TEMPLATE_SYNTAX');
  assert.equal(code(() => render('{{}}', data, 'f', 'h')), 'TEMPLATE_SYNTAX');
  assert.equal(code(() => render('{{.obj}}', data, 'f', 'h')), 'TEMPLATE_VALUE');
  assert.equal(code(() => render('{{.nul}}', data, 'f', 'h')), 'TEMPLATE_VALUE');
});

test('placeholders() lists keys without rendering, for package-time checks', () => {
  assert.deepEqual(placeholders('{{.a}}:{{ .b.c }}', 'f'), ['a', 'b.c']);
  assert.deepEqual(placeholders('plain', 'f'), []);
});
