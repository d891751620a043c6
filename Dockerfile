# secretsync container image: the CLI and its production dependencies on a current Node.js LTS, run as a
# numeric non-root user, with no package manager in the final image.
#
#   docker build -t secretsync:dev \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg SOURCE=https://github.com/your-org/secretsync .
#   docker run --rm -v "$PWD/secretsync.yaml:/app/secretsync.yaml:ro" -e VAULT_ADDR -e VAULT_TOKEN \
#     -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN secretsync:dev
#
# Without arguments it plans (`pipeline --dry-run`) and writes nothing; pass `pipeline` to apply.
#
# Base: Node.js 26 ("Lithium"), Active LTS since 2026-10-28 (maintenance from 2027-10-20, end of life
# 2029-04-30). Releases pin it by digest: docker build --build-arg NODE_IMAGE=node:26.13-trixie-slim@sha256:…
# (docs/deployment.md, "Releasing the image", says how to resolve the digest).
ARG NODE_IMAGE=node:26.13-trixie-slim

# ---- build: compile TypeScript with the dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
COPY scripts ./scripts
RUN npm run build

# ---- production dependencies only (no install scripts: none of them has one) ----
FROM ${NODE_IMAGE} AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: node, the production dependencies and the compiled output; no npm, npx, corepack or yarn ----
# The same base as the build (one Node build, one libc) with the package managers deleted, rather than a
# distroless image: its tags and digests are published with the official image the build already uses, and a
# package manager left in the image is one more tool an attacker with a shell in it could use.
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/your-org/secretsync
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
    && rm -rf /root/.npm /tmp/*
LABEL org.opencontainers.image.title="secretsync" \
      org.opencontainers.image.description="Sync HashiCorp Vault KV v2 to AWS Secrets Manager in many accounts" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# NODE_ENV only: the AWS SDK's warning about an unsupported Node.js version is left on for users to see.
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=production-deps /app/node_modules ./node_modules
COPY bin ./bin
COPY --from=build /app/dist/commands ./dist/commands
COPY --from=build /app/dist/src ./dist/src
# The oclif manifest the build wrote: a start reads it instead of importing every command.
COPY --from=build /app/oclif.manifest.json ./
# Files stay owned by root: the runtime user can read them but not change them. The config file defaults to
# /app/secretsync.yaml (mount it there) or set SECRETSYNC_CONFIG. Numeric uid:gid (the image's `node` user, home
# /home/node) so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 1000:1000
# Node runs as PID 1, without an init: secretsync installs its own SIGTERM/SIGINT handlers (src/cli/stop-on-signals.ts;
# PID 1 ignores only signals that have none), so `docker stop` and the kubelet stop it cleanly (exit 143), and it
# starts no child processes, so there are no zombies to reap. test/e2e/signals.test.ts runs it as PID 1.
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["pipeline", "--dry-run"]
