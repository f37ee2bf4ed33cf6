// Unit tests sit beside the code (src/ **/*.spec.ts); end-to-end tests in test/ (*.e2e-spec.ts).
// TypeScript is compiled once by test/global-setup.js; the transformer hands Jest that output.
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': '<rootDir>/test/support/jest-transformer.js' },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/global-setup.js',
  modulePathIgnorePatterns: ['<rootDir>/bench/out', '<rootDir>/dist'],
};
