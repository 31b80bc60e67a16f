import { storeComplianceTests } from '@converge/compliance/store';
import { MapStore } from '../src/map-store.js';

storeComplianceTests({ name: 'MapStore', create: async () => new MapStore() });
