// Unit tests sit beside the code (src/ **/*.spec.ts); end-to-end tests in test/ (*.e2e-spec.ts).
// test/support/jest-transformer.js: TypeScript is compiled once by test/global-setup.js and the
// transformer hands Jest that output; ES modules (NestJS 12's packages) become CommonJS, which
// is why node_modules is not excluded from transformation (CommonJS files pass unchanged).
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  transform: { '\\.(ts|js|mjs|cjs)$': '<rootDir>/test/support/jest-transformer.js' },
  transformIgnorePatterns: [],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/global-setup.js',
  modulePathIgnorePatterns: ['<rootDir>/bench/out', '<rootDir>/dist'],
};
