/**
 * Enough of a Dockerfile to rebuild an image's stages in plain folders, with
 * no Docker engine: its stages and their WORKDIR, COPY, RUN and ENTRYPOINT
 * instructions, and the COPY semantics (a folder's contents, several sources
 * into a folder, `--from` another stage, `.dockerignore`). Anything this does
 * not model (other flags, JSON-form COPY, glob patterns) throws, so a test
 * built on it fails rather than checks something else than Docker would.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename, join, posix, relative } from 'node:path';

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name: string;
  instructions: Instruction[];
}

interface Copy {
  from: string | null;
  sources: string[];
  dest: string;
}

/** The instructions of a Dockerfile, continuation lines joined, comments and blank lines dropped. */
export function instructions(text: string): Instruction[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim());
  return lines
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const space = l.search(/\s/);
      return { keyword: l.slice(0, space).toUpperCase(), args: l.slice(space + 1).trim() };
    });
}

/** The stages of a Dockerfile, in order, each named by its `AS` (or its index). */
export function stages(text: string): Stage[] {
  const found: Stage[] = [];
  for (const instruction of instructions(text)) {
    if (instruction.keyword === 'FROM') {
      const name = /\sAS\s+(\S+)$/i.exec(instruction.args)?.[1] ?? String(found.length);
      found.push({ name, instructions: [] });
    } else {
      found.at(-1)?.instructions.push(instruction);
    }
  }
  return found;
}

function parseCopy(args: string): Copy {
  if (args.startsWith('[')) throw new Error(`JSON-form COPY is not modelled: COPY ${args}`);
  const words = args.split(/\s+/);
  let from: string | null = null;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    if (!flag.startsWith('--from=')) throw new Error(`COPY flag not modelled: ${flag}`);
    from = flag.slice('--from='.length);
  }
  if (words.length < 2) throw new Error(`COPY needs a source and a destination: COPY ${args}`);
  return { from, sources: words.slice(0, -1), dest: words.at(-1)! };
}

/** The plain paths of a .dockerignore (missing: none); a glob or exception pattern throws. */
export function dockerignore(context: string): string[] {
  const path = join(context, '.dockerignore');
  if (!existsSync(path)) return [];
  const patterns = readFileSync(path, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const p of patterns) if (/[*?[\]!]/.test(p)) throw new Error(`.dockerignore pattern not modelled: ${p}`);
  return patterns.map((p) => posix.normalize(p).replace(/^\/|\/$/g, ''));
}

/** A stage's file system: the folder that stands for its root, and its current WORKDIR. */
export interface StageFolder {
  dir: string;
  workdir: string;
}

/** A path of the image (absolute, or relative to the WORKDIR) as a path in the stage's folder. */
export function inFolder(stage: StageFolder, path: string): string {
  return join(stage.dir, posix.resolve(stage.workdir, path));
}

/** Whether a path of the build context gets past .dockerignore. */
function contextFilter(context: string): (path: string) => boolean {
  const ignored = dockerignore(context);
  return (src) => {
    const path = relative(context, src).split('\\').join('/');
    return !ignored.some((p) => path === p || path.startsWith(`${p}/`));
  };
}

/** Where a COPY source is: in the build context, or with --from in an earlier stage's folder. */
function sourcePath(copy: Copy, source: string, context: string, built: ReadonlyMap<string, StageFolder>): string {
  if (copy.from === null) return join(context, source);
  const stage = built.get(copy.from);
  if (!stage) throw new Error(`COPY --from=${copy.from}: no such stage built`);
  return inFolder(stage, source);
}

/**
 * Applies one COPY to `to`: from the build context (through .dockerignore)
 * or, with --from, from an earlier stage's folder (moved, not copied: each
 * is read once). Throws when a source is missing, as `docker build` fails.
 */
export function applyCopy(args: string, to: StageFolder, context: string, built: ReadonlyMap<string, StageFolder>): void {
  const copy = parseCopy(args);
  const destPath = inFolder(to, copy.dest);
  const into = copy.sources.length > 1 || copy.dest.endsWith('/') || (existsSync(destPath) && statSync(destPath).isDirectory());
  const keep = contextFilter(context);
  for (const source of copy.sources) {
    const src = sourcePath(copy, source, context, built);
    const found = existsSync(src) && (copy.from !== null || keep(src));
    if (!found) throw new Error(`COPY ${args}: ${source} not found in ${copy.from === null ? 'the build context' : `stage ${copy.from}`}`);
    const dest = into && !statSync(src).isDirectory() ? join(destPath, basename(source)) : destPath;
    mkdirSync(join(dest, '..'), { recursive: true });
    if (copy.from === null) cpSync(src, dest, { recursive: true, filter: keep });
    else renameSync(src, dest);
  }
}

/** What building the stages left: each stage's folder, and the last stage's ENTRYPOINT. */
export interface BuiltImage {
  stages: Map<string, StageFolder>;
  entrypoint: string[];
  /** The last stage's ENV, as `NAME=value` words (for `env` before the entrypoint). */
  env: string[];
}

/** An ENV instruction's `NAME=value` pairs (the only form we write: no quotes, no spaces in values). */
function envPairs(args: string): string[] {
  const pairs = args.split(/\s+/);
  for (const pair of pairs) if (!/^[A-Z_][A-Z0-9_]*=[^"'\s]*$/.test(pair)) throw new Error(`ENV form not modelled: ${args}`);
  return pairs;
}

/** Instructions that change nothing a plain folder can show. */
const IGNORED = new Set(['USER', 'EXPOSE', 'LABEL']);

type Runner = (command: string, cwd: string) => void;

/** Applies one instruction of a stage; returns an ENTRYPOINT's words, else null. */
function applyInstruction({ keyword, args }: Instruction, folder: StageFolder, context: string, built: ReadonlyMap<string, StageFolder>, run: Runner): string[] | null {
  if (keyword === 'WORKDIR') {
    folder.workdir = posix.resolve(folder.workdir, args);
    mkdirSync(inFolder(folder, '.'), { recursive: true });
  } else if (keyword === 'COPY') applyCopy(args, folder, context, built);
  else if (keyword === 'RUN') run(args, inFolder(folder, '.'));
  else if (keyword === 'ENTRYPOINT') return JSON.parse(args) as string[];
  else if (!IGNORED.has(keyword)) throw new Error(`Dockerfile instruction not modelled: ${keyword} ${args}`);
  return null;
}

/**
 * Builds every stage of a Dockerfile in a folder of its own below `root`
 * (the folder stands for the stage's file system root): WORKDIR, COPY as
 * `docker build` would, RUN through `run` in the WORKDIR, ENTRYPOINT (exec
 * form) kept. Any other instruction throws.
 */
export function buildStages(dockerfile: string, context: string, root: string, run: Runner): BuiltImage {
  const built = new Map<string, StageFolder>();
  let entrypoint: string[] = [];
  let env: string[] = [];
  for (const stage of stages(readFileSync(dockerfile, 'utf8'))) {
    const folder: StageFolder = { dir: join(root, stage.name), workdir: '/' };
    mkdirSync(folder.dir, { recursive: true });
    env = [];
    for (const instruction of stage.instructions) {
      if (instruction.keyword === 'ENV') for (const pair of envPairs(instruction.args)) env.push(pair);
      else entrypoint = applyInstruction(instruction, folder, context, built, run) ?? entrypoint;
    }
    built.set(stage.name, folder);
  }
  return { stages: built, entrypoint, env };
}
