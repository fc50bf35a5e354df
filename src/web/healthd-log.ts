import { appendFile, readdir, unlink } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import * as path from 'node:path';

/**
 * The request log Elastic Beanstalk's health agent reads for enhanced health (request rate, latency
 * percentiles, 5xx per instance). With Docker Compose EB runs no nginx to write it, so the web process
 * does, in the format nginx's `healthd` log_format has: `$msec"$uri"$status"$request_time"$upstream_response_time"$http_x_forwarded_for`,
 * one file per UTC hour, `application.log.YYYY-MM-DD-HH`. docker-compose.yml bind-mounts the host
 * directory the agent reads (/var/log/nginx/healthd) at HEALTHD_LOG_DIR.
 */
export function healthdLine(endMs: number, urlPath: string, status: number, durationMs: number, forwardedFor: string | undefined): string {
  const seconds = (durationMs / 1000).toFixed(3);
  return `${(endMs / 1000).toFixed(3)}"${urlPath}"${status}"${seconds}"${seconds}"${forwardedFor ?? ''}\n`;
}

export function healthdFileName(ms: number): string {
  return `application.log.${new Date(ms).toISOString().slice(0, 13).replace('T', '-')}`;
}

export interface HealthdLogOptions {
  now?: () => number;
  /** Lines kept between flushes at most; beyond, new ones are dropped (a stalled disk never grows memory). */
  maxBufferedLines?: number;
  /** Told once, the first time a flush fails. */
  onError?: (message: string) => void;
}

/** Gathers lines in memory and appends them once a second: one file write per second, not per request. */
export class HealthdLog {
  private lines: string[] = [];
  private readonly now: () => number;
  private readonly max: number;
  private warned = false;
  private currentFile: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly options: HealthdLogOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.max = options.maxBufferedLines ?? 50_000;
  }

  get buffered(): number {
    return this.lines.length;
  }

  record(url: string, status: number, durationMs: number, forwardedFor: string | undefined): void {
    if (this.lines.length >= this.max) return;
    const query = url.indexOf('?');
    this.lines.push(healthdLine(this.now(), query === -1 ? url : url.slice(0, query), status, durationMs, forwardedFor));
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const text = this.lines.join('');
    this.lines = [];
    const file = healthdFileName(this.now());
    try {
      await appendFile(path.join(this.dir, file), text);
      if (file !== this.currentFile) await this.removeOldFiles(file);
      this.currentFile = file;
    } catch (err) {
      if (!this.warned) this.options.onError?.(`cannot write the health agent's request log in ${this.dir}: ${(err as Error).message}`);
      this.warned = true;
    }
  }

  /**
   * Nothing else cleans this directory without nginx: at each new hour, files older than the previous
   * hour's go (the agent reads only the current one; the previous one may still be being read).
   */
  private async removeOldFiles(current: string): Promise<void> {
    const previous = healthdFileName(this.now() - 3_600_000);
    const names = await readdir(this.dir);
    const old = names.filter((n) => n.startsWith('application.log.') && n !== current && n !== previous);
    await Promise.all(old.map((n) => unlink(path.join(this.dir, n)).catch(() => undefined)));
  }

  /** Flushes every second until `stop()`, which flushes what is left. */
  start(intervalMs = 1000): { stop(): Promise<void> } {
    const timer = setInterval(() => void this.flush(), intervalMs);
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await this.flush();
      },
    };
  }
}

/** Records every answered request; the outermost listener, so refusals and the webhook fast path count too. */
export function withHealthdLog(log: HealthdLog, next: RequestListener): RequestListener {
  return (req, res) => {
    const started = performance.now();
    res.once('finish', () => {
      const forwarded = req.headers['x-forwarded-for'];
      log.record(req.url ?? '/', res.statusCode, performance.now() - started, Array.isArray(forwarded) ? forwarded.join(', ') : forwarded);
    });
    next(req, res);
  };
}
