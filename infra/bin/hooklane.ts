import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createHooklaneApp } from '../lib/hooklane-app';

// Runs under the CDK CLI (`cdk deploy`: context from cdk.json and -c) and on its own (`npm run synth`,
// offline, no credentials). Context is read here and nowhere else: cdk.json's values are the defaults,
// then the CLI's (CDK_CONTEXT_JSON) and `-c key=value` arguments win.
const root = path.resolve(__dirname, '../..');
const defaults = JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8')).context as Record<string, unknown>;
const cliContext = process.env.CDK_CONTEXT_JSON ? (JSON.parse(process.env.CDK_CONTEXT_JSON) as Record<string, unknown>) : {};

try {
  const { app } = createHooklaneApp({
    context: { ...defaults, ...cliContext, ...contextFromArgs(process.argv.slice(2)) },
    outdir: process.env.CDK_OUTDIR ?? path.join(root, 'cdk.out'),
  });
  const assembly = app.synth();
  for (const m of assembly.stacks.flatMap((st) => st.messages).filter((msg) => msg.level === 'warning')) {
    process.stderr.write(`warning ${m.id}: ${String(m.entry.data)}\n`);
  }
  process.stdout.write(`synthesized ${assembly.stacks.map((s) => s.stackName).join(', ')} into ${assembly.directory}\n`);
} catch (err) {
  // Invalid context, or cdk-nag findings (one validation report): the message says it all.
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}

/** `-c key=value` / `--context key=value`, as the CDK CLI takes them. */
function contextFromArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    if ((args[i] === '-c' || args[i] === '--context') && args[i + 1]?.includes('=')) {
      const [key, ...value] = args[++i]!.split('=');
      out[key!] = value.join('=');
    }
  }
  return out;
}
