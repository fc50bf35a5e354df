import { readFileSync } from 'node:fs';

export interface ProcessType {
  readonly name: string;
  readonly command: string;
}

/** Parses a Procfile (`name: command` per line); the only list of process types. */
export function parseProcfile(text: string): ProcessType[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([A-Za-z0-9_-]+):\s*(.+)$/.exec(line);
      if (!match) throw new Error(`Procfile: cannot parse line "${line}"`);
      return { name: match[1]!, command: match[2]! };
    });
}

export function readProcfile(path: string): ProcessType[] {
  return parseProcfile(readFileSync(path, 'utf8'));
}
