# Rebound: one image for every role (`rebound start --role intake|worker|api`).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-cli.mjs ./scripts/
COPY src ./src
COPY migrations ./migrations
COPY web ./web
# The classifier threads' code cache is made by running the built classifier over the samples (scripts/build-cli.mjs).
COPY samples ./samples
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# A container listens on its interface (Rebound alone binds loopback unless told otherwise).
ENV NODE_ENV=production \
    REBOUND_DATA_DIR=/data \
    REBOUND_SMTP_HOST=0.0.0.0 \
    REBOUND_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY policy.example.json ./
RUN mkdir -p /data /keys && chown node:node /data /keys
USER node
VOLUME ["/data"]
EXPOSE 2525 8025
ENTRYPOINT ["node", "bin/rebound.js"]
CMD ["start"]
