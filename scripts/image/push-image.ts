import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { DockerCli } from './docker-cli';

export interface PushImageInput {
  /** A local image (e.g. hooklane:<sha>). */
  readonly source: string;
  /** The ECR repository URI, <account>.dkr.ecr.<region>.amazonaws.com/<name>. */
  readonly repositoryUri: string;
  /** Immutable in ECR: one tag per commit (or per deploy label). */
  readonly tag: string;
}

const ECR_URI = /^(\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)\/([a-z0-9._/-]+)$/;

function check(step: string, result: { status: number; stderr: string }): void {
  if (result.status !== 0) throw new Error(`docker ${step} failed: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
}

/**
 * Logs the Docker CLI in to ECR with a token from the SDK (no AWS CLI needed), pushes `source` as
 * `<repository>:<tag>` and returns the pushed image by digest, `<repository>@sha256:...`: what the
 * EB bundle pins.
 */
export async function pushImage(ecr: ECRClient, docker: DockerCli, input: PushImageInput): Promise<string> {
  const uri = ECR_URI.exec(input.repositoryUri);
  if (!uri) throw new Error(`not an ECR repository URI: ${input.repositoryUri}`);
  const registry = uri[1]!;
  const { authorizationData = [] } = await ecr.send(new GetAuthorizationTokenCommand({}));
  const token = authorizationData[0]?.authorizationToken;
  if (!token) throw new Error('ECR returned no authorization token');
  const [user, password] = Buffer.from(token, 'base64').toString('utf8').split(':') as [string, string];
  check('login', docker(['login', '--username', user, '--password-stdin', registry], { input: password }));
  const target = `${input.repositoryUri}:${input.tag}`;
  check('tag', docker(['tag', input.source, target]));
  check('push', docker(['push', target], { inherit: true }));
  const digests = docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', target]);
  check('image inspect', digests);
  const pinned = (JSON.parse(digests.stdout) as string[]).find((d) => d.startsWith(`${input.repositoryUri}@sha256:`));
  if (!pinned) throw new Error(`pushed ${target}, but Docker reports no digest for it in ${input.repositoryUri}`);
  return pinned;
}

export { ECRClient };
