// `npm run bundle -- --image <repo-uri>@sha256:<digest>`: the Elastic Beanstalk source bundle for an image
// already pushed to ECR. One bundle for all three ways to deploy: `eb deploy` (artifact), CodePipeline
// (buildspec.yml) and `npm run deploy`.
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { writeBundle } from './build-bundle/write-bundle';

const root = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { image: { type: 'string' } } });
  const image = values.image ?? process.env.HOOKLANE_IMAGE;
  if (!image) {
    throw new Error(
      'npm run bundle needs the image to deploy: npm run bundle -- --image <repo-uri>@sha256:<digest> ' +
        '(the pipeline passes the one it built and pushed; `npm run deploy` builds and pushes one for you).',
    );
  }
  const bundle = await writeBundle(root, image);
  const kib = Math.round(statSync(bundle.zipPath).size / 1024);
  process.stdout.write(`bundle: ${bundle.files.length} files, ${kib} KiB -> ${path.relative(root, bundle.zipPath)} (image ${image})\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
