# ainews in a slim image: non-root, the database on a volume.
#   docker build -t ainews .
#   docker run --env-file .env -v ainews-data:/data ainews
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    AINEWS_DB=/data/ainews.db PIP_NO_CACHE_DIR=1

WORKDIR /app
# What the build reads: pyproject.toml names README.md and LICENSE (tests/test_packaging.py).
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY feeds ./feeds
COPY storage ./storage
RUN pip install . && useradd --create-home --uid 10001 ainews \
    && mkdir -p /data && chown ainews:ainews /data

USER ainews
VOLUME ["/data"]
# Run from /: a relative AINEWS_DB, as in a .env copied from .env.example (data/ainews.db),
# is then /data/ainews.db too, on the volume (from /app it would be lost, and unwritable).
WORKDIR /
# Slack HTTP mode listens here when SLACK_SIGNING_SECRET is set.
EXPOSE 3000
ENTRYPOINT ["ainews"]
CMD ["run"]
