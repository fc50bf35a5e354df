import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { parse as parseYaml } from 'yaml';
import { readProcfile } from '../../scripts/build-bundle/procfile';

/** Parsers for the deployment files, so tests compare what the files say rather than grep them. */
export const repoRoot = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

export const procfile = () => readProcfile(path.join(repoRoot, 'Procfile'));
export const compose = () => parseYaml(read('docker-compose.yml'), { merge: true }) as ComposeFile;
export const buildspec = () => parseYaml(read('buildspec.yml')) as Buildspec;
export const packageJson = () => JSON.parse(read('package.json')) as { scripts: Record<string, string>; devDependencies: Record<string, string> };

export interface ComposeService {
  build?: string;
  image?: string;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  env_file?: string | string[];
  stop_grace_period?: string;
  profiles?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  logging?: { driver: string; options?: Record<string, string> };
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
}
export interface Buildspec {
  env?: { variables?: Record<string, string> };
  phases: Record<string, { commands: string[] }>;
  reports: Record<string, { 'base-directory': string; files: string[]; 'file-format': string }>;
  artifacts: { 'base-directory': string; 'secondary-artifacts': Record<string, { 'base-directory': string; files: string[] }> };
}

/** "20s", "1m30s" -> milliseconds (the compose duration format). */
export function composeDurationMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * units[unit!]!;
  return total;
}

export interface DockerStage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export function dockerfile() {
  const parsed = DockerfileParser.parse(read('Dockerfile'));
  const stages: DockerStage[] = [];
  for (const instruction of parsed.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [base = '', , name = ''] = instruction.getArguments().map((a) => a.getValue());
      stages.push({ name, base, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  const args = Object.fromEntries(
    parsed.getARGs().flatMap((a) => {
      const p = a.getProperty();
      return p ? [[p.getName(), p.getValue() ?? '']] : [];
    }),
  );
  return { parsed, stages, args };
}

export const keyword = (stage: DockerStage, word: string) => stage.instructions.filter((i) => i.getKeyword() === word);
export const argsOf = (i: Instruction) => i.getArguments().map((a) => a.getValue());
/** JSON-form instruction arguments (ENTRYPOINT/CMD/HEALTHCHECK CMD). */
export const jsonArgs = (i: Instruction): string[] => JSON.parse(i.getArgumentsContent()!.replace(/^CMD\s+/, ''));

/** Every `namespace/OptionName` set by .ebextensions, with its value (both YAML forms EB accepts). */
export function ebextensionOptions(): Map<string, unknown> {
  const options = new Map<string, unknown>();
  const dir = path.join(repoRoot, '.ebextensions');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.config')).sort()) {
    const doc = parseYaml(readFileSync(path.join(dir, file), 'utf8')) as { option_settings?: unknown };
    for (const [key, value] of optionEntries(doc.option_settings)) {
      if (options.has(key)) throw new Error(`${key} is set twice in .ebextensions (${file})`);
      options.set(key, value);
    }
  }
  return options;
}

/** Every CloudFormation resource .ebextensions adds to (or changes in) EB's template, by logical id. */
export function ebextensionResources(): Record<string, { Type?: string; Properties?: Record<string, any> }> {
  const resources: Record<string, { Type?: string; Properties?: Record<string, any> }> = {};
  const dir = path.join(repoRoot, '.ebextensions');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.config')).sort()) {
    const doc = parseYaml(readFileSync(path.join(dir, file), 'utf8')) as { Resources?: typeof resources };
    for (const [id, resource] of Object.entries(doc.Resources ?? {})) {
      if (resources[id]) throw new Error(`resource ${id} is defined twice in .ebextensions (${file})`);
      resources[id] = resource;
    }
  }
  return resources;
}

export function optionEntries(settings: unknown): [string, unknown][] {
  if (!settings) return [];
  if (Array.isArray(settings)) {
    return settings.map((s: { namespace: string; option_name: string; value: unknown }) => [`${s.namespace}/${s.option_name}`, s.value]);
  }
  return Object.entries(settings as Record<string, Record<string, unknown>>).flatMap(([ns, opts]) =>
    Object.entries(opts).map(([name, value]) => [`${ns}/${name}`, value] as [string, unknown]),
  );
}

/** What .dockerignore admits into the build context (an allowlist: `**`, then `!path` or `!dir/**`). */
export function contextFilter(): (file: string) => boolean {
  const lines = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines[0] !== '**') throw new Error('.dockerignore: the replay expects an allowlist that starts with **');
  const allowed = lines.slice(1).map((l) => {
    if (!l.startsWith('!') || /[*?[]/.test(l.slice(1).replace(/\/\*\*$/, ''))) {
      throw new Error(`.dockerignore: the replay does not understand "${l}"`);
    }
    return l.slice(1);
  });
  return (file) => allowed.some((a) => (a.endsWith('/**') ? file === a.slice(0, -3) || file.startsWith(a.slice(0, -2)) : file === a));
}
