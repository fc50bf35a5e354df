import { readFileSync } from 'node:fs';

export interface ProcessType {
  name: string;
  /** argv, run without a shell so signals reach the process itself. */
  argv: string[];
}

/** Parses a Procfile (`name: command` lines; `#` comments). The Procfile is the only list of process types. */
export function parseProcfile(text: string): ProcessType[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([A-Za-z0-9_-]+):\s*(.+)$/.exec(line);
      if (!match) throw new Error(`Procfile line is not "name: command": ${line}`);
      return { name: match[1]!, argv: match[2]!.split(/\s+/) };
    });
}

export function readProcfile(path: string): ProcessType[] {
  return parseProcfile(readFileSync(path, 'utf8'));
}
