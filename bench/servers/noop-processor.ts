import type { SandboxedJob } from 'bullmq';

// The bare worker's job: nothing, so the drain rate measures the queue machinery alone.
export default async function noop(_job: SandboxedJob): Promise<void> {}
