import { beforeAll } from 'vitest';
import { backendComplianceTests } from '@converge/compliance/store';
import { postgresBackend, requirePostgres } from './helpers.js';

beforeAll(requirePostgres);
backendComplianceTests(postgresBackend);
