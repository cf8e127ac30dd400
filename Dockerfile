# NinjaIT server image: the built server on production dependencies only, run as `node`.
#   docker build -t ninjait .      (docker-compose.yml builds it for you)
# test/packaging/runtime-image.test.ts replays the runtime stage without Docker (copies what it
# copies, runs its npm ci, starts its CMD and asks its HEALTHCHECK): keep the two in step.
ARG NODE_IMAGE=node:20-bookworm-slim

# Build stage: every dependency, dev included, then the server bundle and the console.
FROM ${NODE_IMAGE} AS build
# better-sqlite3 (agent workspace) builds from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Manifests first: the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY agent/package.json agent/
COPY test/package.json test/
COPY bench/package.json bench/
COPY web/package.json web/
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build.mjs server seed web

# Runtime stage: the server workspace's production dependencies and the built files, nothing else
# (no TypeScript sources, no tsx, no esbuild, no agent).
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
# Only the server's and @ninjait/shared's manifests: npm ci leaves out workspaces whose folders are
# absent, so the agent (a devDependency of the server's tests) and its native addon stay out.
# The server's packages ship prebuilt native and wasm parts: this stage needs no compiler.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
RUN npm ci --omit=dev --workspace server --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/server/bin server/bin
COPY --from=build /app/server/dist server/dist
# A migrated embedded database: a first start copies its cluster folder instead of running initdb.
COPY --from=build /app/server/pglite-seed server/pglite-seed
COPY --from=build /app/web/dist web/dist
# The install-script templates the server fills in for /install.sh and /install.ps1.
COPY installers/linux/install.sh installers/linux/
COPY installers/windows/install.ps1 installers/windows/
# `docker compose exec ninjait ninjait org create Acme`; the data folder belongs to the user the server runs as.
RUN ln -s /app/server/bin/ninjait.js /usr/local/bin/ninjait && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "server/bin/ninjait.js", "serve"]
