import uiExtensionJestConfig from '@stripe/ui-extension-tools/jest.config.ui-extension.mjs';

/** Stripe's shared UI extension config (ts-jest), plus what this package needs on top. */
export default {
  ...uiExtensionJestConfig,
  // The SDK publishes ES modules with a plain .js extension and no "type": "module",
  // so jest's CommonJS loader cannot read them untransformed; ts-jest transpiles them
  // (allowJs comes from Stripe's tsconfig).
  preset: 'ts-jest/presets/js-with-ts',
  transformIgnorePatterns: ['/node_modules/(?!@stripe/ui-extension-sdk/)'],
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts?(x)'],
  testEnvironment: 'node',
};
