/** Jest runs TypeScript tests type-checked (ts-jest, no isolatedModules). */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  // The simulator workspace package's own tests run here too.
  roots: ['<rootDir>/test', '<rootDir>/simulator/test'],
  // Tests use the simulator from its sources, as tsconfig.json's "paths" does for the type check.
  moduleNameMapper: { '^orchestra-api-simulator$': '<rootDir>/simulator/src/index.ts' },
  testMatch: ['**/*.test.ts'],
  // Python virtualenvs live under test/ (PyAirbyte); keep jest's file crawler out of them.
  modulePathIgnorePatterns: ['/\\.venv/'],
  // test/docker/ needs podman and a built image: jest.docker.config.js, run by scripts/docker-smoke.sh.
  testPathIgnorePatterns: ['/node_modules/', '/\\.venv/', '<rootDir>/test/docker/'],
  watchPathIgnorePatterns: ['/\\.venv/'],
  testTimeout: 120000,
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
};
