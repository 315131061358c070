// The builder configuration: EXTBUILDER_CONFIG or <builder dir>/config.json, plus Fabric's
// CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG, validated and merged into one typed value.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { validateBuilderConfig } from '../generated/validators.js';
import type { BuilderConfig } from '../generated/types.js';
import { ExtError } from './errors.js';
import { parseJson, readJsonFile } from './json.js';
import { check } from './schema.js';

export const DEFAULT_TYPES = ['external', 'ccaas'];

export interface TlsFiles {
  root_cert_file?: string;
  client_cert_file?: string;
  client_key_file?: string;
}

export interface Config {
  /** Metadata types claimed, lower-cased. */
  types: string[];
  /** Values for {{.key}} placeholders, EXTBUILDER_CONFIG's template over the ccaas_builder variable. */
  template: Record<string, unknown>;
  /** Absolute paths of the peer-local TLS files. */
  tls: TlsFiles;
  /** Where the values came from, for messages: e.g. "EXTBUILDER_CONFIG (inline)". */
  sources: string[];
  /** Kubernetes mode's settings as configured (kubeconfig made absolute); env defaults are applied at run. */
  kubernetes?: KubernetesConfig;
}

export type KubernetesConfig = NonNullable<BuilderConfig['kubernetes']>;

export interface LoadConfigOptions {
  env: Record<string, string | undefined>;
  /** The parent of the bin/ the program was invoked from. */
  builderDir: string;
}

const FIX = 'see the configuration reference in the README';

export function loadConfig({ env, builderDir }: LoadConfigOptions): Config {
  const sources: string[] = [];
  let own: BuilderConfig = {};
  let baseDir = builderDir;

  const inline = env.EXTBUILDER_CONFIG?.trim();
  if (inline) {
    if (inline.startsWith('{')) {
      own = check(validateBuilderConfig, parseJson(inline, 'EXTBUILDER_CONFIG', 'CONFIG_PARSE', 'then set EXTBUILDER_CONFIG again where the peer\'s environment is set (compose file, container env)'), 'EXTBUILDER_CONFIG', 'CONFIG_INVALID');
      sources.push('EXTBUILDER_CONFIG (inline)');
    } else {
      const file = resolve(inline);
      own = check(validateBuilderConfig, readJsonFile(file, { where: `EXTBUILDER_CONFIG file ${file}`, readCode: 'CONFIG_READ', parseCode: 'CONFIG_PARSE', fix: 'point EXTBUILDER_CONFIG at a readable JSON file, or give the JSON inline', parseFix: `edit ${file}` }), file, 'CONFIG_INVALID');
      sources.push(`EXTBUILDER_CONFIG file ${file}`);
      baseDir = dirname(file);
    }
  } else {
    const file = join(builderDir, 'config.json');
    if (existsSync(file)) {
      own = check(validateBuilderConfig, readJsonFile(file, { where: file, readCode: 'CONFIG_READ', parseCode: 'CONFIG_PARSE', fix: FIX, parseFix: `edit ${file}` }), file, 'CONFIG_INVALID');
      sources.push(file);
      baseDir = builderDir;
    }
  }

  let ccaas: Record<string, unknown> = {};
  const ccaasText = env.CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG?.trim();
  if (ccaasText) {
    const value = parseJson(ccaasText, 'CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG', 'CONFIG_PARSE', 'then set it again in the peer\'s environment, a JSON object such as {"peername": "peer0org1"}');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ExtError('CONFIG_INVALID', 'CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG is not a JSON object', 'give a JSON object such as {"peername": "peer0org1"}');
    }
    ccaas = value as Record<string, unknown>;
    sources.push('CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG');
  }

  // Relative TLS paths are relative to the config file (or the builder dir for inline JSON), never to
  // the peer's working directory, which differs between images.
  const tls: TlsFiles = {};
  for (const [k, v] of Object.entries(own.tls ?? {}) as [keyof TlsFiles, string][]) {
    tls[k] = isAbsolute(v) ? v : resolve(baseDir, v);
  }
  const kubernetes = own.kubernetes && { ...own.kubernetes };
  if (kubernetes?.kubeconfig && !isAbsolute(kubernetes.kubeconfig)) kubernetes.kubeconfig = resolve(baseDir, kubernetes.kubeconfig);
  return {
    types: (own.types ?? DEFAULT_TYPES).map((t) => t.toLowerCase()),
    template: { ...ccaas, ...(own.template as Record<string, unknown> | undefined) },
    tls,
    sources,
    ...(kubernetes ? { kubernetes } : {}),
  };
}

/** Where template values may come from, for TEMPLATE_MISSING_KEY messages. */
export function templateSourcesHint(config: Config): string {
  const from = config.sources.length ? `values now come from ${config.sources.join(' and ')}` : 'no builder config is set';
  return `${from}; set the key in the config's "template" object or in CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG, and list that variable in the builder's propagateEnvironment`;
}
