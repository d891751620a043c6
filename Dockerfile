# secretsync container image: the CLI and its production dependencies, run as the unprivileged `node` user.
#
#   docker build -t secretsync:dev .
#   docker run --rm -v "$PWD/secretsync.yaml:/app/secretsync.yaml:ro" -e VAULT_ADDR -e VAULT_TOKEN \
#     -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN secretsync:dev
#
# Without arguments it plans (`pipeline --dry-run`) and writes nothing; pass `pipeline` to apply.
# Node 20 is the runtime the project supports (package.json engines); the tag pins the minor version.

# ---- build: compile TypeScript with the dev dependencies ----
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
COPY scripts ./scripts
RUN npm run build

# ---- runtime: production dependencies and the compiled output only ----
FROM node:20.20-bookworm-slim
LABEL org.opencontainers.image.title="secretsync" \
      org.opencontainers.image.description="Sync HashiCorp Vault KV v2 to AWS Secrets Manager in many accounts" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist/commands ./dist/commands
COPY --from=build /app/dist/src ./dist/src
# The oclif manifest the build wrote: a start reads it instead of importing every command.
COPY --from=build /app/oclif.manifest.json ./
# Files stay owned by root: the runtime user can read them but not change them. The config file defaults to
# /app/secretsync.yaml (mount it there) or set SECRETSYNC_CONFIG.
USER node
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["pipeline", "--dry-run"]
