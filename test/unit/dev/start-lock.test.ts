import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acquireStartLock, START_LOCK_FILE } from '../../../src/dev/start-preflight';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-lock-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** A pid that surely is not running: a child that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('the npm start lock on the data directory', () => {
  test('is taken with this pid, refused to a second taker while held, and gone once released', () => {
    const first = acquireStartLock(dataDir);
    expect('release' in first).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dataDir, START_LOCK_FILE), 'utf8')).pid).toBe(process.pid);

    expect(acquireStartLock(dataDir)).toEqual({ heldBy: process.pid });

    if ('release' in first) first.release();
    expect(existsSync(path.join(dataDir, START_LOCK_FILE))).toBe(false);
  });

  test('left behind by a process that died (SIGKILL, a crash), is stale and taken over', () => {
    writeFileSync(path.join(dataDir, START_LOCK_FILE), JSON.stringify({ pid: deadPid() }));
    const lock = acquireStartLock(dataDir);
    expect('release' in lock).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dataDir, START_LOCK_FILE), 'utf8')).pid).toBe(process.pid);
  });

  test('that is unreadable (a torn write) counts as stale', () => {
    writeFileSync(path.join(dataDir, START_LOCK_FILE), '{"pi');
    expect('release' in acquireStartLock(dataDir)).toBe(true);
  });
});
