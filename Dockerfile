# feedbackloop as a container (used by docker-compose.yml).
# The build stage copies the shipped folders the image runs (demo/ holds the
# synthetic world of `feedbackloop demo`; scorer/, the library for upstream
# apps, also serves `run`'s POST /v1/models/{model}/score); bench/ and test/
# stay out, and nothing shipped imports
# them (test/unit/layers.test.ts). A new shipped folder needs a COPY line
# here: test/integration/docker-context.test.ts builds these stages from
# exactly what they copy and runs the CLI and the demo.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY core core
COPY adapters adapters
COPY processors processors
COPY scorer scorer
COPY report report
COPY sinks sinks
COPY runtime runtime
COPY demo demo
COPY cli cli
COPY schemas schemas
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY schemas schemas
COPY dashboards dashboards
COPY package.json ./
USER node
# Inside a container 127.0.0.1 (the default of http.host) is reachable from
# that container only: listen on every interface of its own network, whose
# boundary is the published port. Set http.* TLS and credentials when that
# port is published beyond this machine (README, Security).
ENV FEEDBACKLOOP_HTTP_HOST=0.0.0.0
EXPOSE 9464
ENTRYPOINT ["node", "dist/cli/main.js"]
