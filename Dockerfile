# syntax=docker/dockerfile:1
# The one image of every Prism process: `docker run IMAGE graph|relay|worker|migrate|...`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    VIRTUAL_ENV=/app/.venv \
    PATH=/app/.venv/bin:$PATH

RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app

# The locked dependencies first, so that a change to the source reuses this layer.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache

# Then the project itself, installed editable: migrations and alembic.ini are found
# relative to the source tree (prism_platform.migrate).
COPY . .
RUN uv sync --frozen --no-dev --no-cache \
    && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent prism

USER prism
EXPOSE 8000
ENTRYPOINT ["prism"]
CMD ["--help"]
