# The Orchestra source as an Airbyte connector image (README.md, section "Docker").
#   docker build -t source-orchestra:dev .
#   docker run --rm source-orchestra:dev spec
# NODE_IMAGE exists for registry mirrors; the image is built and tested on the official node:20-bookworm-slim.
ARG NODE_IMAGE=node:20-bookworm-slim

# Every dependency, installed once; keyed on package*.json alone, so a source change reuses it.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error && rm -rf /root/.npm

# Production dependencies only, pruned from the full install (no second download). --omit=optional
# also drops TypeScript (23 MB), which the production tree has only as an optional peer of a
# types-only package.
FROM deps AS prod-deps
RUN npm prune --omit=dev --omit=optional --no-audit --no-fund --loglevel=error

# TypeScript build with the dev dependencies; nothing of this stage but lib/ reaches the runtime image.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY resources ./resources
COPY src ./src
# src/ is the connector alone (the simulator is the workspace package in simulator/, outside this
# context; npm ci above skips its absent folder). Source maps point at TypeScript sources the image
# does not carry.
RUN npm run build:connector --silent \
 && find lib -name '*.map' -delete

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
COPY resources ./resources
COPY bin/main ./bin/main
COPY docker/entrypoint.sh ./bin/docker-entrypoint
COPY --from=build /app/lib ./lib
# Airbyte's image requirements: a /airbyte folder the connector's user owns (the platform may mount
# its files there).
RUN mkdir /airbyte && chown node:node /airbyte
LABEL io.airbyte.name="source-orchestra" \
      io.airbyte.version="0.1.0" \
      org.opencontainers.image.title="source-orchestra" \
      org.opencontainers.image.description="Airbyte source for Orchestra run metadata: pipeline runs, task runs, operations" \
      org.opencontainers.image.licenses="Apache-2.0"
USER node
# Airbyte on Kubernetes launches the connector through this variable, not through ENTRYPOINT: keep them equal.
ENV AIRBYTE_ENTRYPOINT="/app/bin/docker-entrypoint"
ENTRYPOINT ["/app/bin/docker-entrypoint"]
