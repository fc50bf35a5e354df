// `tsx scripts/push-image.ts --source <local image> --repository <ECR uri> --tag <tag>`: the pipeline's
// push step (buildspec.yml). Prints the pushed image by digest, which the EB bundle then pins.
import { parseArgs } from 'node:util';
import { dockerCli } from './image/docker-cli';
import { ECRClient, pushImage } from './image/push-image';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { source: { type: 'string' }, repository: { type: 'string' }, tag: { type: 'string' } },
});
if (!values.source || !values.repository || !values.tag) {
  process.stderr.write('usage: tsx scripts/push-image.ts --source <local image> --repository <ECR repository URI> --tag <tag>\n');
  process.exit(2);
}
pushImage(new ECRClient({}), dockerCli, { source: values.source, repositoryUri: values.repository, tag: values.tag }).then(
  (pinned) => process.stdout.write(`${pinned}\n`),
  (err: Error) => {
    process.stderr.write(`push-image: ${err.message}\n`);
    process.exit(1);
  },
);
