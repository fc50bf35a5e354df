import {
  DescribeEnvironmentsCommand,
  DescribeEventsCommand,
  type ElasticBeanstalkClient,
  type EnvironmentDescription,
  type EventDescription,
} from '@aws-sdk/client-elastic-beanstalk';
import { DeployError } from './errors';

/** Time and output, injected so tests control the clock and never sleep. */
export interface Runtime {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly print: (line: string) => void;
}

export interface WatchTarget {
  readonly environmentName: string;
  readonly versionLabel: string;
  /** Events before this instant belong to earlier deployments. */
  readonly since: Date;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

export function formatEvent(e: EventDescription): string {
  return `${e.EventDate?.toISOString() ?? '-'} ${(e.Severity ?? 'INFO').padEnd(5)} ${e.Message ?? ''}`;
}

const isProblem = (e: EventDescription) => e.Severity === 'ERROR' || e.Severity === 'FATAL' || e.Severity === 'WARN';

/**
 * Streams the environment's events and waits until it runs `versionLabel`, Ready and Green. Fails on
 * Red, on a deployment that ended on another version (EB rolled back), and on timeout; each failure
 * carries the warning and error events seen.
 */
export async function watchDeployment(eb: ElasticBeanstalkClient, target: WatchTarget, rt: Runtime): Promise<EnvironmentDescription> {
  const started = rt.now();
  const seen = new Set<string>();
  const problems: string[] = [];
  let lastState = '';
  for (;;) {
    const events = await newEvents(eb, target, seen);
    for (const e of events) {
      rt.print(`  ${formatEvent(e)}`);
      if (isProblem(e)) problems.push(formatEvent(e));
    }
    const env = await describe(eb, target.environmentName);
    const state = `${env.Status ?? '?'} / ${env.Health ?? '?'} / ${env.VersionLabel ?? '-'}`;
    if (state !== lastState) rt.print(`[${elapsed(rt.now() - started)}] status ${state}`);
    lastState = state;

    if (env.Status === 'Ready') {
      if (env.VersionLabel !== target.versionLabel) {
        throw new DeployError(`the deployment ended with ${env.VersionLabel ?? 'no version'} running, not ${target.versionLabel}: Elastic Beanstalk rolled it back`, problems);
      }
      if (env.Health === 'Green') return env;
      if (env.Health === 'Red') throw new DeployError(`${target.environmentName} is Red after deploying ${target.versionLabel}`, problems);
    }
    if (rt.now() - started >= target.timeoutMs) {
      throw new DeployError(`timed out after ${elapsed(target.timeoutMs)} waiting for Ready + Green (last: ${state})`, problems);
    }
    await rt.sleep(target.pollIntervalMs);
  }
}

async function newEvents(eb: ElasticBeanstalkClient, target: WatchTarget, seen: Set<string>): Promise<EventDescription[]> {
  const { Events = [] } = await eb.send(
    new DescribeEventsCommand({ EnvironmentName: target.environmentName, StartTime: target.since }),
  );
  // DescribeEvents answers newest first; print oldest first, each event once.
  return Events.filter((e) => {
    const key = `${e.EventDate?.getTime()}|${e.Message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  }).sort((a, b) => (a.EventDate?.getTime() ?? 0) - (b.EventDate?.getTime() ?? 0));
}

export async function describe(eb: ElasticBeanstalkClient, environmentName: string): Promise<EnvironmentDescription> {
  const { Environments = [] } = await eb.send(
    new DescribeEnvironmentsCommand({ EnvironmentNames: [environmentName], IncludeDeleted: false }),
  );
  const env = Environments.find((e) => e.Status !== 'Terminated' && e.Status !== 'Terminating');
  if (!env) throw new DeployError(`unknown environment "${environmentName}" (none by that name is running in this region)`);
  return env;
}

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
