# One image for every Procfile process type: `docker run IMAGE` starts `web`, `docker run IMAGE worker`
# the worker. The entrypoint reads the command from the Procfile, so that file stays the only list.

# No `# syntax=` line: it makes BuildKit pull a frontend image from Docker Hub. The image builds with
# BuildKit and with the classic builder alike (no --chmod, no cache mounts).
#
# The base comes from ECR Public's mirror of the Docker official images (no Docker Hub rate limit).
# Node 22 is the maintained LTS line that satisfies package.json "engines". To pin it byte for byte,
# append the digest the registry reports for this tag:
#   docker buildx imagetools inspect public.ecr.aws/docker/library/node:22.21.0-bookworm-slim
# and write NODE_IMAGE=public.ecr.aws/docker/library/node:22.21.0-bookworm-slim@sha256:<that digest>.
# Tests replace it (--build-arg NODE_IMAGE=...) with a locally built stand-in of the same Node version.
ARG NODE_IMAGE=public.ecr.aws/docker/library/node:22.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# install: every dependency, for the compiler. --ignore-scripts: nothing we need builds at install
# time (native add-ons ship prebuilt binaries), and it keeps dependency install scripts out of the build.
FROM base AS install
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts

# build: `npm run build`, as everywhere else: TypeScript -> dist/, the operator console -> dist/public
# (served by the web process when no CDN is in front, e.g. docker compose locally).
FROM install AS build
COPY tsconfig.json tsconfig.build.json vite.config.ts ./
COPY src ./src
RUN npm run build
# The entrypoint's executable bit is set here, not inherited from the build context: a source zip
# (CodePipeline's) may have lost it. COPY --from keeps the mode.
COPY scripts/docker-entrypoint.sh scripts/docker-healthcheck.js ./scripts/
RUN chmod 0755 scripts/docker-entrypoint.sh && chmod 0644 scripts/docker-healthcheck.js

# prod-deps: production dependencies only, resolved from the same lockfile.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# runtime: no compiler, no dev dependencies, no npm cache; code owned by root and read-only for the
# unprivileged `node` user that runs it.
FROM base AS runtime
# tini is PID 1: it forwards SIGTERM to node and reaps the child processes of sandboxed job processors.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORT=3000
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/scripts ./scripts
COPY package.json Procfile ./
USER node
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "scripts/docker-healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--", "/app/scripts/docker-entrypoint.sh"]
CMD ["web"]
