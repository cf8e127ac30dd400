# NinjaIT server image: the TypeScript sources run through tsx (no build step), like in development.
#   docker build -t ninjait .      (docker-compose.yml builds it for you)
FROM node:20-bookworm-slim AS deps
# better-sqlite3 (agent workspace) builds from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY agent/package.json agent/
COPY test/package.json test/
COPY bench/package.json bench/
COPY web/package.json web/
# tsx is a devDependency and the server runs through it, so dev dependencies stay.
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# The console, when its workspace is present.
RUN if [ -f web/package.json ] && [ -x node_modules/.bin/vite ]; then npm run build -w web; fi
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "server/src/cli/main.ts", "serve"]
