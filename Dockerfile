# One image for the API (default CMD), the worker and the simulators:
#   docker build -t cancelflow:local .
#   docker run cancelflow:local                                  # API
#   docker run cancelflow:local node dist/worker/main.js         # Temporal worker
#   docker run cancelflow:local node dist/simulators/main.js     # SMS/payment/carrier simulators
#
# Debian (glibc) based on purpose: @temporalio/core-bridge ships prebuilt glibc binaries.
# Plain Dockerfile syntax (no RUN --mount) so that docker-compose 1.29's classic
# builder can build it as well as BuildKit.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- deps: every dependency, from the lockfile only (cached until it changes)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Keep install-time hooks quiet and offline where packages allow it
# (no git hooks in an image; no MongoDB binary download for test helpers).
ENV HUSKY=0 \
    MONGOMS_DISABLE_POSTINSTALL=1 \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
RUN npm ci

# ---- build: compile TypeScript to dist/
FROM deps AS build
COPY . .
RUN npm run build

# ---- prod-deps: the same install with dev dependencies removed (no second download,
# no lifecycle scripts re-run)
FROM deps AS prod-deps
RUN npm prune --omit=dev

# ---- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    API_HOST=0.0.0.0 \
    API_PORT=3000
WORKDIR /app
# Files stay root-owned (read-only for the app); the process runs as the image's
# unprivileged "node" user (uid 1000).
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
