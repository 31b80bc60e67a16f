import { packageConfig } from '../../tsup.config.base';

export default packageConfig({ 'storage/index': 'src/storage/index.ts', 'crypto/index': 'src/crypto/index.ts', 'llm/index': 'src/llm/index.ts' });
