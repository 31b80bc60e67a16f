import { packageConfig } from '../../tsup.config.base';

export default packageConfig({
  'store/index': 'src/store/index.ts',
  'transport/index': 'src/transport/index.ts',
  'task-queue/index': 'src/task-queue/index.ts',
  'discovery/index': 'src/discovery/index.ts',
  'fault-proxy/index': 'src/fault-proxy/index.ts',
  'task-queue/child': 'src/task-queue/child.ts',
  'store/child': 'src/store/child.ts',
});
