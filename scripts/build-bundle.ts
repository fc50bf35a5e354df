// `npm run bundle`: the Elastic Beanstalk source bundle, after `npm run build`. One bundle for all three
// ways to deploy: `eb deploy` (artifact), CodePipeline (buildspec.yml) and `npm run deploy`.
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { writeBundle } from './build-bundle/write-bundle';

const root = path.resolve(__dirname, '..');
writeBundle(root).then(
  (bundle) => {
    const kib = Math.round(statSync(bundle.zipPath).size / 1024);
    process.stdout.write(`bundle: ${bundle.files.length} files, ${kib} KiB -> ${path.relative(root, bundle.zipPath)}\n`);
  },
  (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  },
);
