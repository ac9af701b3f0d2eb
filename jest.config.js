/** One jest run for the whole repository: service, nodes and workflow tests. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] },
  testMatch: ['<rootDir>/service/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  setupFiles: ['<rootDir>/test/support/fast-check-seed.ts'],
  testTimeout: 60_000,
  // two cores: parallel files, each with its own database
  maxWorkers: 2,
};
