# syntax=docker/dockerfile:1.7
# Skillet API and worker image. Build:  docker build -t skillet .
#   API:        docker run skillet                                  (node --max-semi-space-size=1 --v8-pool-size=1 src/server.ts,
#                                                                    with MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072)
#   worker:     docker run skillet node --max-semi-space-size=1 src/worker.ts
#   migrations: docker run skillet node src/cli/skillet.ts migrate
# The code runs on Node 24's type stripping: there is no build step, src/ is shipped as is.

# ---- dependencies: the only stage with compilers, in case a native module has no prebuilt binary
FROM node:24-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# package.json overrides point GPU-only llama.cpp packages at this stub.
COPY test/npm-stub ./test/npm-stub
# node-llama-cpp (the embedded inference engine) ships its CPU build prebuilt: nothing to download or compile.
# onnxruntime-node (the trainer's native matrix products) ships its CPU binaries for every platform: skip its
# CUDA download and keep only this platform's.
RUN NODE_LLAMA_CPP_SKIP_DOWNLOAD=true ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
 && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 2 -maxdepth 2 ! -path "*/linux/$(node -p process.arch)" -exec rm -rf {} +
# The web dashboard's bundle (dist/ui/<hash of its sources>/), built here: the runtime's /app is read-only.
COPY src ./src
RUN node src/ui/build/build-ui.ts

# ---- runtime: no compilers, no npm cache, non-root
FROM node:24-slim
# glibc malloc as `npm start` sets it for the API: two arenas, and a fixed 128 KB mmap threshold
# (otherwise it rises after the first large free, and start-up's freed buffers stay in the heap).
# The worker gets it too; trainer children do not (their environment is an allow-list).
ENV NODE_ENV=production \
    PORT=8080 \
    SKILLET_DATA_DIR=/tmp/skillet-data \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072
RUN groupadd --gid 10001 skillet && useradd --uid 10001 --gid skillet --no-create-home --shell /usr/sbin/nologin skillet
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --chown=root:root src ./src
COPY --from=deps --chown=root:root /app/dist ./dist
COPY --chown=root:root migrations ./migrations
COPY --chown=root:root openapi ./openapi
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=1", "--v8-pool-size=1", "src/server.ts"]
