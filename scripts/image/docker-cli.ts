import { spawnSync } from 'node:child_process';

export interface DockerResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `docker <args>`; `input` goes to stdin (a registry password never appears in argv). */
export type DockerCli = (args: string[], options?: { input?: string; inherit?: boolean }) => DockerResult;

export const dockerCli: DockerCli = (args, options = {}) => {
  const result = spawnSync('docker', args, {
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // Progress goes to stderr: stdout stays for results (push-image prints the digest there).
    stdio: options.inherit ? ['pipe', 2, 2] : 'pipe',
  });
  if (result.error) return { status: 127, stdout: '', stderr: result.error.message };
  return { status: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
};

/** Whether a Docker engine answers (the CLI is installed and its daemon reachable). */
export const engineReachable = (docker: DockerCli): boolean => docker(['info', '--format', '{{.ServerVersion}}']).status === 0;
