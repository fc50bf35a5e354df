import { aws_ecr as ecr, aws_iam as iam, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

export interface ImageRepositoryProps {
  readonly namePrefix: string;
  /** How many images to keep; older ones expire (a rollback further back rebuilds from git). */
  readonly keepImages?: number;
}

/** Images kept by default: more than a month of deploys at a few a day. */
export const KEEP_IMAGES = 30;

/**
 * The ECR repository the pipeline pushes the app image to, once per commit, and Elastic Beanstalk
 * instances pull from by digest. Tags are immutable (a commit's tag always names the bytes tested),
 * every push is scanned, and images are encrypted with KMS.
 */
export class ImageRepository extends Construct {
  readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: props.namePrefix,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.KMS,
      lifecycleRules: [
        { description: `keep the last ${props.keepImages ?? KEEP_IMAGES} images`, maxImageCount: props.keepImages ?? KEEP_IMAGES },
      ],
      // The running environment's image lives here: never deleted with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Pull rights on this repository only (EB authenticates to ECR itself with the instance profile).
   * ecr:GetAuthorizationToken has no resource-level permissions, so CDK grants it on `*`.
   */
  grantPull(grantee: iam.IRole): void {
    this.repository.grantPull(grantee);
    acknowledge(grantee, 'ecr:GetAuthorizationToken supports no resource-level permissions; pulls are limited to one repository.', 'IAM5[Resource::*]');
  }

  /** Push (and pull) rights on this repository only, for the pipeline's build. */
  grantPullPush(grantee: iam.IRole): void {
    this.repository.grantPullPush(grantee);
    acknowledge(grantee, 'ecr:GetAuthorizationToken supports no resource-level permissions; pushes are limited to one repository.', 'IAM5[Resource::*]');
  }
}
