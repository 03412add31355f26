# A small runtime image: only the application code and locales, run as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    DATABASE_URL=sqlite:////data/mjgram.db

RUN useradd --create-home --uid 10001 mjgram && mkdir /data && chown mjgram /data
WORKDIR /app

# Dependencies first (cached layer), read from pyproject.toml at the tested versions (constraints.txt);
# the code runs from /app as it is.
COPY pyproject.toml constraints.txt ./
RUN python -c "import subprocess, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '-c', 'constraints.txt', *deps])"
COPY bot ./bot
COPY webhook ./webhook
COPY locales ./locales

USER mjgram
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"HTTP_PORT\",\"8080\")}/healthz', timeout=4)"
CMD ["python", "-m", "bot"]
