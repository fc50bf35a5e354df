import { resourcesOfType, synthesize } from './synth-stack';

const endpoints = (json: Record<string, any>) =>
  resourcesOfType(json, 'AWS::EC2::VPCEndpoint').map(([, r]) => ({
    type: r.Properties.VpcEndpointType as string,
    // com.amazonaws.<region>.<service>, as a join around the region.
    service: String((r.Properties.ServiceName['Fn::Join'][1] as unknown[]).at(-1)).replace(/^\./, ''),
    routeTables: JSON.stringify(r.Properties.RouteTableIds ?? []),
    subnets: JSON.stringify(r.Properties.SubnetIds ?? []),
    privateDns: r.Properties.PrivateDnsEnabled as boolean | undefined,
  }));

describe('VPC endpoints', () => {
  it('has a free S3 gateway endpoint on the app subnets\' route tables, so bundles, console files and image layers skip the NAT gateways', () => {
    const found = endpoints(synthesize().json);
    expect(found.map(({ type, service }) => ({ type, service }))).toEqual([{ type: 'Gateway', service: 's3' }]);
    expect(found[0]!.routeTables).toMatch(/appSubnet1RouteTable[\s\S]*appSubnet2RouteTable/);
  });

  it('adds the interface endpoints context names, in the app subnets with private DNS', () => {
    const found = endpoints(synthesize({ interfaceEndpoints: 'ecr.api, ecr.dkr,logs' }).json).filter((e) => e.type === 'Interface');
    expect(found.map((e) => e.service).sort()).toEqual(['ecr.api', 'ecr.dkr', 'logs']);
    for (const e of found) {
      expect(e.subnets).toMatch(/appSubnet1[\s\S]*appSubnet2/);
      expect(e.privateDns).toBe(true);
    }
  });
});
