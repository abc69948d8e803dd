// Shared Jest 30 config; each package's jest.config.js spreads this.
// ts-jest transpiles per file (isolatedModules); type errors are caught by `turbo run typecheck`.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  testTimeout: 60000,
};
