/** Jest runs TypeScript tests type-checked (ts-jest, no isolatedModules). */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Python virtualenvs live under test/ (PyAirbyte); keep jest's file crawler out of them.
  modulePathIgnorePatterns: ['/\\.venv/'],
  testPathIgnorePatterns: ['/node_modules/', '/\\.venv/'],
  watchPathIgnorePatterns: ['/\\.venv/'],
  testTimeout: 120000,
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
};
