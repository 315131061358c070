// Launch mode: a chaincode program the peer starts through run. launch.json checks (shared with run) and
// build's copy of the program tree into BUILD_OUTPUT_DIR/code.
import { chmodSync, constants, copyFileSync, lstatSync, mkdirSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { ExtError } from '../core/errors.js';
import { crlfShebang } from '../core/exec-check.js';
import { fillAtomically } from '../core/fsx.js';
import { readJsonFile } from '../core/json.js';
import type { Logger } from '../core/log.js';
import { check } from '../core/schema.js';
import { placeholders } from '../core/template.js';
import { validateLaunch } from '../generated/validators.js';
import type { Launch } from '../generated/types.js';
import type { BuildInputs } from './build.js';
import { copyIndexes, findIndexes } from './indexes.js';
import { writeBuildOutput } from './output.js';

/**
 * Where build puts the program tree inside BUILD_OUTPUT_DIR. A subdirectory, not the root, so that a
 * package file named build.json, metadata.json or statedb can never collide with what build writes, and
 * run's working directory holds the program and nothing of the builder's.
 */
export const CODE_DIR = 'code';
export const LAUNCH_JSON = 'launch.json';

/** A checked launch.json: `program` is where the command lives. */
export interface LaunchPlan extends Launch {
  workdir: string;
  /** `package`: a file in the program tree (path relative to its root); `path`: looked up on PATH or absolute, at run. */
  program: { kind: 'package'; rel: string } | { kind: 'path'; name: string };
}

/** Normalises a package-relative path; throws LAUNCH_PATH_ESCAPES for an absolute or escaping one. */
export function packagePath(rel: string, field: string): string {
  const norm = posix.normalize(rel.replace(/\\/g, '/'));
  if (isAbsolute(rel) || norm === '..' || norm.startsWith('../')) {
    throw new ExtError('LAUNCH_PATH_ESCAPES', `launch.json ${field} ${JSON.stringify(rel)} is outside the package`,
      `give a path relative to the package root, such as ${field === 'workdir' ? '"." or "app"' : '"bin/chaincode"'}`);
  }
  return norm.replace(/\/$/, '') || '.';
}

/**
 * Reads and checks `<root>/launch.json` against the tree at `root` (the source at build, the copy at
 * run): schema, placeholder syntax, workdir and a package command that exist, the command executable.
 */
export function readLaunch(root: string, log?: Logger): LaunchPlan {
  const fix = 'see the launch mode section of the README for a complete launch.json';
  const data = readJsonFile(join(root, LAUNCH_JSON), { where: LAUNCH_JSON, readCode: 'LAUNCH_READ', parseCode: 'LAUNCH_PARSE', fix, parseFix: 'edit launch.json at the root of the launch tree and run extbuilder package --launch again', maxBytes: 1 << 20 });
  const launch = check(validateLaunch, data, LAUNCH_JSON, 'LAUNCH_UNKNOWN_KEY');
  (launch.args ?? []).forEach((a, i) => placeholders(a, `launch.json args[${i}]`));
  for (const [k, v] of Object.entries(launch.env ?? {})) placeholders(v, `launch.json env.${k}`);

  const workdir = packagePath(launch.workdir ?? '.', 'workdir');
  let dirOk = false;
  try { dirOk = statSync(join(root, workdir)).isDirectory(); } catch { /* reported below */ }
  if (!dirOk) throw new ExtError('LAUNCH_WORKDIR_MISSING', `launch.json workdir ${JSON.stringify(launch.workdir)} is not a directory in the package`, 'create it in the package, or drop workdir to start in the package root');

  const command = launch.command;
  let program: LaunchPlan['program'];
  if (isAbsolute(command) || !command.includes('/')) {
    program = { kind: 'path', name: command };
    if (!isAbsolute(command) && log) {
      let shadowed = false;
      try { shadowed = lstatSync(join(root, command)).isFile(); } catch { /* no such file: nothing to say */ }
      if (shadowed) log.warn('LAUNCH_COMMAND_ON_PATH', `launch.json command ${JSON.stringify(command)} is looked up on the peer's PATH, not taken from the package`, `write "./${command}" to run the packaged file`);
    }
  } else {
    const rel = packagePath(command, 'command');
    let st;
    try {
      st = statSync(join(root, rel));
    } catch {
      throw new ExtError('LAUNCH_COMMAND_MISSING', `launch.json command ${JSON.stringify(command)} is not in the package`, 'package the program at that path, or give a bare name such as "node" to use the peer\'s PATH');
    }
    if (!st.isFile() || (st.mode & 0o111) === 0) {
      throw new ExtError('LAUNCH_COMMAND_NOT_EXECUTABLE', `launch.json command ${JSON.stringify(command)} is ${st.isFile() ? `not executable (mode ${(st.mode & 0o777).toString(8)})` : 'not a regular file'}`,
        `chmod +x ${rel} in the launch tree and package it again (tar keeps the mode)`);
    }
    // What exec needs and packaging can know (the interpreter itself is the peer's): a #! line without CR.
    let crlf: string | undefined;
    try { crlf = crlfShebang(join(root, rel)); } catch { /* unreadable: exec reports it */ }
    if (crlf !== undefined) {
      throw new ExtError('LAUNCH_COMMAND_NOT_EXECUTABLE', `launch.json command ${JSON.stringify(command)} has CRLF line endings: its first line ${JSON.stringify(`${crlf}\r`)} makes the kernel look for an interpreter whose name ends in \\r, so exec fails with "no such file or directory"`,
        `convert ${rel} in the launch tree to LF line endings, e.g. dos2unix ${rel} or in git *.sh text eol=lf, and package it again`);
    }
    program = { kind: 'package', rel };
  }
  return { ...launch, workdir, program };
}

const DIR_OWNER = 0o700;

function kindOf(e: Dirent | Stats): string {
  return e.isSymbolicLink() ? 'symlink' : e.isFIFO() ? 'FIFO' : e.isSocket() ? 'socket' : e.isCharacterDevice() || e.isBlockDevice() ? 'device' : 'special file';
}

/**
 * Copies a tree keeping file modes. A tight synchronous loop: getdents types save a stat per file, and
 * copyFileSync (copy_file_range or a reflink where the file system allows) copies in the kernel and
 * gives the copy the source's mode. Directories keep their mode plus owner rwx (DIR_OWNER), set once
 * filled: the peer copies bld/ to its durable store and later deletes its scratch copy, and as a
 * non-root user it can do neither through a read-only directory.
 */
export function copyTree(from: string, to: string, rel = ''): number {
  let files = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(from, { withFileTypes: true });
  } catch (err) {
    throw new ExtError('SOURCE_READ', `cannot read ${rel || 'the package root'} in the package: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'make every directory in the package readable by the peer user', { cause: err });
  }
  for (const e of entries) {
    const s = join(from, e.name);
    const d = join(to, e.name);
    const r = rel ? `${rel}/${e.name}` : e.name;
    // Some file systems report no type in getdents; ask lstat then.
    const kind: Dirent | Stats = e.isFile() || e.isDirectory() || e.isSymbolicLink() || e.isFIFO() || e.isSocket() || e.isCharacterDevice() || e.isBlockDevice() ? e : lstatSync(s);
    if (kind.isFile()) {
      try {
        copyFileSync(s, d, constants.COPYFILE_FICLONE);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS') throw err;
        throw new ExtError('SOURCE_READ', `cannot copy ${r} from the package: ${code ?? String(err)}`, 'make every file in the package readable by the peer user', { cause: err });
      }
      files++;
    } else if (kind.isDirectory()) {
      mkdirSync(d, { mode: 0o700 });
      files += copyTree(s, d, r);
      chmodSync(d, (statSync(s).mode & 0o7777) | DIR_OWNER);
    } else {
      throw new ExtError('SOURCE_FILE_TYPE', `the package holds ${r}, a ${kindOf(kind)}`,
        kind.isSymbolicLink() ? 'replace the link with the file it points to (the peer refuses symlinks in code.tar.gz)' : 'remove it from the package');
    }
  }
  return files;
}

export async function buildLaunch({ sourceDir, metadataDir, outputDir, log }: BuildInputs): Promise<string> {
  const plan = readLaunch(sourceDir, log);
  const indexes = findIndexes(sourceDir, log);
  const files = await fillAtomically(outputDir, (scratch) => {
    const code = join(scratch, CODE_DIR);
    mkdirSync(code, { mode: 0o700 });
    const n = copyTree(sourceDir, code);
    chmodSync(code, (statSync(sourceDir).mode & 0o7777) | DIR_OWNER);
    copyFileSync(join(metadataDir, 'metadata.json'), join(scratch, 'metadata.json'));
    writeBuildOutput(scratch, 'launch', copyIndexes(indexes, scratch));
    return n;
  });
  const what = plan.program.kind === 'package' ? plan.program.rel : `${plan.program.name} (from PATH at run)`;
  const n = indexes.length;
  return `launch ${what}, ${files} ${files === 1 ? 'file' : 'files'}, ${n} ${n === 1 ? 'index' : 'indexes'}`;
}
