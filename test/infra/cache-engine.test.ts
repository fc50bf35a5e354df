import { parseSettings } from '../../infra/lib/settings';
import { cdkDefaults, resourcesOfType, synthesize } from './synth-stack';

describe('ElastiCache engine (context cacheEngine)', () => {
  const cacheOf = (context: Record<string, unknown>) => {
    const { json } = synthesize(context);
    const group = resourcesOfType(json, 'AWS::ElastiCache::ReplicationGroup')[0]![1].Properties;
    const parameters = resourcesOfType(json, 'AWS::ElastiCache::ParameterGroup')[0]![1].Properties;
    return { engine: group.Engine, version: group.EngineVersion, family: parameters.CacheParameterGroupFamily, policy: parameters.Properties['maxmemory-policy'] };
  };

  it('is Valkey 8 by default (cheaper than Redis OSS on the same nodes), with noeviction', () => {
    expect(parseSettings(cdkDefaults).cacheEngine).toBe('valkey');
    expect(cacheOf({})).toEqual({ engine: 'valkey', version: '8.0', family: 'valkey8', policy: 'noeviction' });
  });

  it('is Redis OSS 7.1 when context asks for it, with noeviction', () => {
    expect(cacheOf({ cacheEngine: 'redis' })).toEqual({ engine: 'redis', version: '7.1', family: 'redis7', policy: 'noeviction' });
  });

  it('refuses any other engine', () => {
    expect(() => parseSettings({ ...cdkDefaults, cacheEngine: 'memcached' })).toThrow(/cacheEngine/);
  });
});
