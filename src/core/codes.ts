// The stable error and warning codes: every line the program prints on failure names one of these.
// The README's error reference is checked against this table by test/codes.test.ts.

export const ERROR_CODES = {
  USAGE: 'the phase was called with the wrong number of arguments',
  INTERNAL: 'an unexpected failure inside extbuilder (a bug: rerun with EXTBUILDER_DEBUG=1 and report it)',
  CONFIG_READ: 'the builder config file named by EXTBUILDER_CONFIG cannot be read',
  CONFIG_PARSE: 'the builder config, or CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG, is not valid JSON',
  CONFIG_INVALID: 'the builder config does not match schemas/builder-config.schema.json',
  METADATA_READ: 'metadata.json cannot be read from CHAINCODE_METADATA_DIR',
  METADATA_PARSE: 'metadata.json is not valid JSON',
  METADATA_INVALID: 'metadata.json is not an object with a string "type"',
  SOURCE_READ: 'the chaincode source directory cannot be read',
  SOURCE_NO_ENTRY: 'the package holds neither connection.json (service mode) nor launch.json (launch mode)',
  SOURCE_BOTH_MODES: 'the package holds both connection.json and launch.json',
  CONN_READ: 'connection.json cannot be read',
  CONN_TOO_LARGE: 'connection.json is larger than any real one (1 MiB limit)',
  CONN_PARSE: 'connection.json is not valid JSON',
  CONN_NOT_OBJECT: 'connection.json is not a JSON object',
  CONN_UNKNOWN_KEY: 'connection.json has a key the peer does not read (often a misspelling)',
  CONN_ADDRESS: 'address is missing or not host:port with a port from 1 to 65535',
  CONN_DIAL_TIMEOUT: 'dial_timeout is not a Go duration string such as "10s"',
  CONN_BOOLEAN: 'tls_required or client_auth_required is not a JSON boolean',
  CONN_TYPE: 'a PEM or domain field is not a string',
  CONN_ROOT_CERT_MISSING: 'TLS is on but no root_cert is given or spliced',
  CONN_CLIENT_TLS_MISSING: 'client auth is on but client_cert or client_key is missing',
  TEMPLATE_SYNTAX: 'a {{...}} placeholder is malformed or uses more than a .key lookup',
  TEMPLATE_MISSING_KEY: 'a {{.key}} placeholder names a value no configuration provides',
  TEMPLATE_VALUE: 'a template value is an object or list where a string, number or boolean is needed',
  TLS_FILE_READ: 'a TLS file named in the builder config cannot be read',
  TLS_PEM_INVALID: 'a certificate or key is not parseable PEM',
  TLS_KEY_MISMATCH: 'client_key does not belong to client_cert',
  TLS_CERT_EXPIRED: 'a certificate has expired or is not valid yet',
  TLS_ROOT_NOT_CA: 'root_cert is not a CA certificate',
  INDEX_INVALID: 'a CouchDB index file is not JSON with an index.fields array',
  INDEX_READ: 'a CouchDB index file cannot be read',
  BUILD_OUTPUT_MISSING: 'BUILD_OUTPUT_DIR was not written by extbuilder build',
  BUILD_OUTPUT_INVALID: 'BUILD_OUTPUT_DIR/build.json is malformed',
  OUTPUT_WRITE: 'an output file or directory cannot be written',
} as const;

export const WARNING_CODES = {
  CONN_CLIENT_KEY_IN_PACKAGE: 'the package itself carries a TLS private key, shared with every organisation that installs it',
  CONN_DOMAIN_IGNORED: 'domain is read by the peer only from Fabric 3.0 and only with client_auth_required',
  CONN_TLS_FIELDS_UNUSED: 'TLS fields are set but tls_required is not true, so the peer ignores them',
  TLS_CERT_EXPIRING: 'a certificate expires within 30 days',
  INDEX_IGNORED: 'a file under META-INF/statedb is not at a path the ledger reads, so it is not copied',
  METADATA_ODD: 'metadata.json has a problem the peer tolerates',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type WarningCode = keyof typeof WARNING_CODES;
