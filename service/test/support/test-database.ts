// Kept for the tests of this round that import it by this name: the test database lives in ./database.
export { createTestDatabase, type TestDatabase } from './database';
