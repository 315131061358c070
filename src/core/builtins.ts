// Node builtins that a phase loads only when it needs them: node:crypto costs 4-7 ms to load, more than a whole
// TLS-off build, and node:child_process 3 ms, which a run that execs never uses. process.getBuiltinModule
// exists from Node 20.16; before it, the bundle's CommonJS require.
type Crypto = typeof import('node:crypto');
type ChildProcesses = typeof import('node:child_process');
type Os = typeof import('node:os');

export const nodeCrypto = (): Crypto => process.getBuiltinModule?.('node:crypto') ?? require('node:crypto');
export const nodeChildProcess = (): ChildProcesses => process.getBuiltinModule?.('node:child_process') ?? require('node:child_process');
export const nodeOs = (): Os => process.getBuiltinModule?.('node:os') ?? require('node:os');
