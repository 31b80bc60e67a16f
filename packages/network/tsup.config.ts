import { packageConfig } from '../../tsup.config.base';

export default packageConfig({ index: 'src/index.ts', 'websocket/index': 'src/websocket/index.ts', 'websocket/client': 'src/websocket/client.ts' });
