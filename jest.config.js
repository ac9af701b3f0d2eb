/** One jest run for the whole repository: service, nodes and workflow tests. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] },
  testMatch: ['<rootDir>/service/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  // the reliability suite has its own run (npm run test:reliability)
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/reliability/'],
  setupFiles: ['<rootDir>/test/support/fast-check-seed.ts', '<rootDir>/test/support/n8n-log-level.ts'],
  testTimeout: 60_000,
  // two cores: parallel files, each with its own database
  maxWorkers: 2,
};
