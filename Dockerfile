# syntax=docker/dockerfile:1
# Node.js 26, the current LTS line (Active LTS from October 2026, supported until April 2029), on
# Debian 13 (trixie). CI runs the suite on Node.js 20, the lowest release package.json's engines
# allows, and checks that nothing needs a newer one (.ci/node-floor.js). The suite was run on 26
# too (bench/RESULTS.md): one unit test pins Node.js 20's wording of a TLS error (README).
# Build stage: all dependencies, compile TypeScript and the native addons (native/: batched UDP
# and the read-only mapping of the GeoIP database; npm ci's install script builds them with
# node-gyp, which needs python3, make and a C compiler).
FROM node:26-trixie-slim AS build
# No install-time telemetry (@scarf/scarf, through @nestjs/swagger -> swagger-ui-dist).
ENV SCARF_ANALYTICS=false
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY bin/build-native.js ./bin/
COPY native/binding.gyp native/udp_batch.c native/mapped_file.c ./native/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
COPY bench ./bench
RUN npm run build

# Runtime stage: production dependencies only, non-root. The addons come built from the build
# stage (same Node.js); being newer than their sources, npm ci's install script leaves them alone.
# Shipped: the server (dist/src, dist/migrations), the CLI (bin/, also as `georoute` on the PATH),
# the demo configuration; not the benchmarks (dist/bench).
FROM node:26-trixie-slim AS runtime
ENV NODE_ENV=production HTTP_HOST=0.0.0.0 DNS_HOST=0.0.0.0 DATA_DIR=/var/lib/georoute SCARF_ANALYTICS=false
WORKDIR /app
COPY package.json package-lock.json ./
COPY bin ./bin
COPY native/binding.gyp native/udp_batch.c native/mapped_file.c ./native/
COPY --from=build /app/native/build/Release/udp_batch.node /app/native/build/Release/mapped_file.node ./native/build/Release/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
  && ln -s /app/bin/georoute.js /usr/local/bin/georoute
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
COPY config ./config
# The dashboard's static files (served from src/ui/public; its map libraries from node_modules).
COPY src/ui/public ./src/ui/public
RUN mkdir -p /var/lib/georoute && chown node:node /var/lib/georoute
# The embedded database, the generated admin token (DATA_DIR/admin-token) and the last good
# snapshot live here: mount a volume to keep them across container restarts.
VOLUME ["/var/lib/georoute"]
# Non-root: DNS listens on 5300. To answer on port 53, map it (-p 53:5300/udp -p 53:5300/tcp) or
# let unprivileged processes bind it (--sysctl net.ipv4.ip_unprivileged_port_start=53); see README.
USER node
EXPOSE 8080/tcp 5300/tcp 5300/udp
# Ready, not merely alive: /readyz answers 200 once a routing snapshot serves DNS and redirects
# and DNS is bound (degraded: true, still 200, while the database is away: static stability).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/readyz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
