import { isMainThread } from 'node:worker_threads';

/**
 * In a child-process sandbox (WORKER_SANDBOX=process) BullMQ forks this file with an IPC channel. If the
 * worker is SIGKILLed, nothing tells the child to stop and it would run on, orphaned; the closed channel
 * is the signal. (Thread sandboxes die with their process.)
 */
export function exitWithParent(): void {
  if (isMainThread && typeof process.send === 'function') {
    process.once('disconnect', () => process.exit(1));
  }
}
