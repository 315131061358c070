// {{.key}} and {{.a.b}} placeholders, the subset of Go text/template that ccaas_builder users write.
import { ExtError, show } from './errors.js';

const PLACEHOLDER = /\{\{(.*?)\}\}/gs;
const LOOKUP = /^\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function hasPlaceholder(text: string): boolean {
  return text.includes('{{');
}

/** The keys a string's placeholders name; throws TEMPLATE_SYNTAX on anything but plain lookups. */
export function placeholders(text: string, where: string): string[] {
  const keys: string[] = [];
  const rest = text.replace(PLACEHOLDER, (_m, inner: string) => {
    const expr = inner.trim();
    if (!LOOKUP.test(expr)) {
      throw new ExtError('TEMPLATE_SYNTAX', `${where} has the placeholder {{${inner}}}, which is not a {{.key}} lookup`,
        'write {{.name}} or {{.a.b}}; conditionals, pipelines and functions are not supported');
    }
    keys.push(expr.slice(1));
    return '';
  });
  if (rest.includes('{{') || rest.includes('}}')) {
    throw new ExtError('TEMPLATE_SYNTAX', `${where} has an unbalanced {{ or }}`, 'close every {{ with }}');
  }
  return keys;
}

function lookup(data: Record<string, unknown>, key: string): { found: boolean; value?: unknown } {
  let cur: unknown = data;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, part)) return { found: false };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: cur };
}

/**
 * Renders one string. `sourcesHint` tells the user where values come from when a key is missing.
 */
export function render(text: string, data: Record<string, unknown>, where: string, sourcesHint: string): string {
  if (!hasPlaceholder(text)) return text;
  placeholders(text, where);
  return text.replace(PLACEHOLDER, (_m, inner: string) => {
    const key = inner.trim().slice(1);
    const { found, value } = lookup(data, key);
    if (!found) {
      throw new ExtError('TEMPLATE_MISSING_KEY', `${where} uses {{.${key}}} but no template value ${show(key)} is set`, sourcesHint);
    }
    if (value === null || typeof value === 'object') {
      throw new ExtError('TEMPLATE_VALUE', `template value ${show(key)} used in ${where} is ${value === null ? 'null' : 'an object or list'}`, 'give a string, number or boolean');
    }
    return String(value);
  });
}
