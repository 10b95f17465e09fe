/**
 * The Docker tests (test/docker/): they need podman and the image the README's build recipe tags, so
 * they run in CI's docker step (bash scripts/docker-smoke.sh builds the image, then runs them), not in
 * the plain `jest` run that comes before the image is built.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/docker'],
  testPathIgnorePatterns: ['/node_modules/', '/\\.venv/'],
  // A recipe or a container may take minutes on a busy machine; each command has its own timeout.
  testTimeout: 600000,
};
