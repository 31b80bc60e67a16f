import { packageConfig } from '../../tsup.config.base';

export default packageConfig({
  'store/index': 'src/store/index.ts',
  'transport/index': 'src/transport/index.ts',
  'task-queue/index': 'src/task-queue/index.ts',
  'discovery/index': 'src/discovery/index.ts',
  'task-queue/child': 'src/task-queue/child.ts',
});
