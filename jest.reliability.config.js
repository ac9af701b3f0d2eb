/** `npm run test:reliability`: the service under faults (own Postgres restarted, kill -9, fuzzing, provider chaos). */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // one scenario at a time: each one loads the machine on purpose
  maxWorkers: 1,
  testTimeout: 300_000,
  globalSetup: '<rootDir>/test/reliability/figures-setup.ts',
  globalTeardown: '<rootDir>/test/reliability/figures-report.ts',
};
