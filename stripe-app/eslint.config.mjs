import uiExtensionConfig from '@stripe/ui-extension-tools/eslint.config.ui-extension.mjs';

export default [...uiExtensionConfig, { ignores: ['node_modules/', '.build/', 'coverage/'] }];
