import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { REDIS_PARAMETERS } from '../../src/redis-parameters';
import { startRedis } from '../support/redis';
import { resourcesOfType, synthesize } from './synth-stack';

describe('Redis parameters: production and every local redis-server agree', () => {
  it('the ElastiCache parameter group sets exactly REDIS_PARAMETERS', () => {
    const { json } = synthesize({});
    const parameters = resourcesOfType(json, 'AWS::ElastiCache::ParameterGroup')[0]![1].Properties;
    expect(parameters.Properties).toEqual(REDIS_PARAMETERS);
  });

  it('the embedded redis-server (npm start, tests, bench) runs with them', async () => {
    const redis = await startRedis({ appendOnly: false });
    const client = new Redis(redis.url);
    try {
      for (const [key, value] of Object.entries(REDIS_PARAMETERS)) {
        expect(await client.config('GET', key)).toEqual([key, value]);
      }
    } finally {
      client.disconnect();
      await redis.destroy();
    }
  });

  it('docker-compose.yml starts its redis with them', () => {
    const compose = parse(readFileSync(path.join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8')) as { services: { redis: { command: string[] } } };
    const command = compose.services.redis.command;
    for (const [key, value] of Object.entries(REDIS_PARAMETERS)) {
      expect(command[command.indexOf(`--${key}`) + 1]).toBe(value);
    }
  });
});
