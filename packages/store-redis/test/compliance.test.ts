import { beforeAll } from 'vitest';
import { backendComplianceTests } from '@converge/compliance/store';
import { redisBackend, requireRedis } from './helpers.js';

beforeAll(requireRedis);
backendComplianceTests(redisBackend);
