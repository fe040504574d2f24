# GOV.UK Frontend for the dashboard and web chat, pinned in package-lock.json
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim
WORKDIR /app
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY storage ./storage
COPY bot ./bot
COPY services ./services
COPY handlers ./handlers
COPY adapters ./adapters
COPY dashboard ./dashboard
COPY townhall ./townhall
COPY --from=assets /assets/node_modules/govuk-frontend/dist/govuk /app/govuk-frontend
RUN pip install --no-cache-dir . && useradd --create-home townhall
USER townhall
ENV TOWNHALL_HTTP_HOST=0.0.0.0 TOWNHALL_HTTP_PORT=8080 TOWNHALL_ASSETS_DIR=/app/govuk-frontend
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
CMD ["townhall", "run"]
