import {
  aws_codebuild as codebuild,
  aws_codepipeline as codepipeline,
  aws_codepipeline_actions as actions,
  aws_codestarconnections as codestarconnections,
  aws_iam as iam,
  aws_kms as kms,
  aws_s3 as s3,
  CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ImageRepository } from './image-repository';
import { acknowledge, CDK_GRANT_ACTIONS, objectsOf } from './nag';

export interface PipelineProps {
  readonly namePrefix: string;
  /** "owner/repo" on GitHub. */
  readonly repository: string;
  readonly branch: string;
  /** An existing CodeStar/CodeConnections connection; without one, a GitHub connection is created (PENDING until authorised in the console). */
  readonly connectionArn?: string;
  /** Debian-based image with Node, so `npm test` can apt-get redis-server and chromium as on any CI machine. */
  readonly buildImage: string;
  /** Where the build pushes the app image (tagged with the commit) that the EB bundle pins by digest. */
  readonly imageRepository: ImageRepository;
  /** An Approve stage between Build and Deploy (see README: the first run waits there for the real secrets). */
  readonly requireApproval: boolean;
  readonly applicationName: string;
  readonly environmentName: string;
  readonly siteBucket: s3.IBucket;
  readonly distributionId: string;
  readonly logBucket: s3.IBucket;
}

/**
 * Build-output names, shared with buildspec.yml's secondary-artifacts: the EB bundle, the console's
 * content-hashed files (dist/public/assets) and the rest of it (index.html, favicon: names that never change).
 */
export const BUILD_ARTIFACTS = { bundle: 'bundle', consoleAssets: 'console_assets', consolePages: 'console_pages' } as const;

/** Vite names every file under assets/ by its content hash, so a name never serves two contents. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * CodePipeline V2: a push to the branch -> CodeBuild (buildspec.yml: builds the image once, runs every
 * test including the container tests against that image, pushes it to ECR, and writes the EB bundle
 * whose compose file pins it by digest, plus the console files) -> Elastic Beanstalk deploy, S3 deploy
 * of the console -> CloudFront invalidation.
 */
export class Pipeline extends Construct {
  readonly pipeline: codepipeline.Pipeline;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    const key = new kms.Key(this, 'ArtifactKey', {
      description: `${props.namePrefix} pipeline artifacts and build logs`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const artifactBucket = new s3.Bucket(this, 'Artifacts', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      enforceSSL: true,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 's3/artifacts/',
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const [owner, repo] = props.repository.split('/') as [string, string];
    const source = new codepipeline.Artifact('source');
    const bundle = new codepipeline.Artifact(BUILD_ARTIFACTS.bundle);
    const consoleAssets = new codepipeline.Artifact(BUILD_ARTIFACTS.consoleAssets);
    const consolePages = new codepipeline.Artifact(BUILD_ARTIFACTS.consolePages);
    const sourceAction = new actions.CodeStarConnectionsSourceAction({
      actionName: 'GitHub',
      connectionArn: props.connectionArn ?? this.createConnection(props.namePrefix),
      owner,
      repo,
      branch: props.branch,
      output: source,
    });

    const build = this.buildProject(props, key);
    const invalidate = this.invalidationProject(props, key);
    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: props.namePrefix,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: codepipeline.ExecutionMode.QUEUED,
      artifactBucket,
      restartExecutionOnUpdate: false,
      triggers: [
        {
          providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
          gitConfiguration: { sourceAction, pushFilter: [{ branchesIncludes: [props.branch] }] },
        },
      ],
      stages: [
        { stageName: 'Source', actions: [sourceAction] },
        {
          stageName: 'Build',
          actions: [
            new actions.CodeBuildAction({
              actionName: 'TestAndBundle',
              project: build,
              input: source,
              outputs: [bundle, consoleAssets, consolePages],
            }),
          ],
        },
        ...(props.requireApproval ? [this.approvalStage(props)] : []),
        {
          stageName: 'Deploy',
          actions: [
            new actions.ElasticBeanstalkDeployAction({
              actionName: 'ElasticBeanstalk',
              applicationName: props.applicationName,
              environmentName: props.environmentName,
              input: bundle,
              runOrder: 1,
            }),
            // Run orders make each step wait for the previous one's success: the console never gets ahead
            // of the API it calls, and index.html never names an asset that is not uploaded yet.
            new actions.S3DeployAction({
              actionName: 'ConsoleAssets',
              bucket: props.siteBucket,
              input: consoleAssets,
              extract: true,
              cacheControl: [actions.CacheControl.fromString(IMMUTABLE)],
              runOrder: 2,
            }),
            new actions.S3DeployAction({
              actionName: 'ConsolePages',
              bucket: props.siteBucket,
              input: consolePages,
              extract: true,
              // Revalidated on every load, so a deploy shows at once; the hashed assets it names are cached for good.
              cacheControl: [actions.CacheControl.noCache()],
              runOrder: 3,
            }),
            new actions.CodeBuildAction({
              actionName: 'InvalidateCdn',
              project: invalidate,
              input: consolePages,
              runOrder: 4,
            }),
          ],
        },
      ],
    });
    this.acknowledgeFindings(props, artifactBucket, [build, invalidate]);
  }

  private acknowledgeFindings(props: PipelineProps, artifacts: s3.Bucket, projects: codebuild.PipelineProject[]): void {
    const cfn = (c: { node: { defaultChild?: unknown } }) => c.node.defaultChild as CfnResource;
    acknowledge(
      this,
      'Generated by CDK grants for the pipeline\'s own artifact bucket, KMS key, site bucket, and per-project ' +
        'CodeBuild log groups and report groups, whose object and stream names are only known at run time.',
      ...CDK_GRANT_ACTIONS,
      `IAM5[${objectsOf(cfn(artifacts))}]`,
      `IAM5[${objectsOf(cfn(props.siteBucket))}]`,
      ...projects.flatMap((p) => {
        const id = Stack.of(this).getLogicalId(cfn(p));
        return [
          `IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<${id}>:*]`,
          `IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/<${id}>-*]`,
        ];
      }),
    );
    acknowledge(
      this,
      'CodePipeline\'s Elastic Beanstalk deploy runs UpdateEnvironment, which acts through CloudFormation on ' +
        'EC2, Auto Scaling, ELB and S3 with the caller\'s rights; AWS documents this managed policy for it.',
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AdministratorAccess-AWSElasticBeanstalk]',
    );
    acknowledge(
      this,
      'Privileged mode runs the Docker engine that builds the app image and runs the container tests against it.',
      'CB3',
    );
    acknowledge(
      this,
      'Debian (node:bookworm) image so that `npm test` installs redis-server and chromium with apt, exactly as on ' +
        'any CI machine; pulled from the ECR Public mirror of the Docker official image.',
      'CB5',
    );
  }

  private approvalStage(props: PipelineProps): codepipeline.StageProps {
    return {
      stageName: 'Approve',
      actions: [
        new actions.ManualApprovalAction({
          actionName: 'Deploy',
          additionalInformation:
            `Approve once the real values are in Secrets Manager (${props.namePrefix}/*) and the build is the one to ship. ` +
            'The first run starts when the pipeline is created, before any secret is set.',
          timeout: Duration.days(7),
        }),
      ],
    };
  }

  private createConnection(namePrefix: string): string {
    return new codestarconnections.CfnConnection(this, 'GitHub', {
      connectionName: namePrefix.slice(0, 32),
      providerType: 'GitHub',
    }).attrConnectionArn;
  }

  private buildProject(props: PipelineProps, key: kms.IKey): codebuild.PipelineProject {
    const project = new codebuild.PipelineProject(this, 'Build', {
      description: 'image build, npm test with the container tests, ECR push, EB bundle and console files (buildspec.yml)',
      buildSpec: codebuild.BuildSpec.fromSourceFilename('buildspec.yml'),
      environment: {
        buildImage: codebuild.LinuxBuildImage.fromDockerRegistry(props.buildImage),
        computeType: codebuild.ComputeType.MEDIUM,
        // The Docker engine that builds the image and runs the container tests.
        privileged: true,
        environmentVariables: { IMAGE_REPOSITORY_URI: { value: props.imageRepository.repository.repositoryUri } },
      },
      encryptionKey: key,
      timeout: Duration.minutes(60),
      cache: codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM, codebuild.LocalCacheMode.DOCKER_LAYER),
    });
    props.imageRepository.grantPullPush(project.role!);
    return project;
  }

  private invalidationProject(props: PipelineProps, key: kms.IKey): codebuild.PipelineProject {
    const project = new codebuild.PipelineProject(this, 'Invalidate', {
      description: 'CloudFront invalidation of the console files that are not content-hashed',
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: {
          build: {
            commands: [
              // The input is the pages artifact: exactly the files whose names do not change (and / for
              // the default root object); hashed assets are new names and need no invalidation.
              `aws cloudfront create-invalidation --distribution-id "$DISTRIBUTION_ID" --paths / $(find . -type f -printf '/%P\\n')`,
            ],
          },
        },
      }),
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: codebuild.ComputeType.SMALL,
        environmentVariables: { DISTRIBUTION_ID: { value: props.distributionId } },
      },
      encryptionKey: key,
      timeout: Duration.minutes(10),
    });
    const stack = Stack.of(this);
    project.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudfront:CreateInvalidation'],
        resources: [stack.formatArn({ service: 'cloudfront', region: '', resource: 'distribution', resourceName: props.distributionId })],
      }),
    );
    return project;
  }
}
