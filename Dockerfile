# A public, read-only demo server of the workbench (Home and Demo only):
#
#   docker build -t tagger-demo .
#   docker run --rm -p 8501:8501 -v "$PWD/models:/models:ro" tagger-demo /models
#   docker run --rm -p 8501:8501 -v "$PWD/models:/models:ro" tagger-demo /models/ner.zip /models/lm.zip \
#       --url https://demo.example.org
#
# The arguments go to scripts/serve_demo.sh (model zips, or a folder of them; --url
# sets the base of the printed share links). The steps are the scripts the tests
# run: scripts/setup.sh (Java check, .venv, requirements.txt), then serve_demo.sh.
# No browser: Chromium is for the browser tests only (scripts/setup_browser.sh).
FROM python:3.11-slim

# KoNLPy's Kkma needs a Java runtime; scripts/setup.sh checks for it.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends default-jre-headless \
    && rm -rf /var/lib/apt/lists/*

# torch's CPU build: requirements.txt pins the version, PyPI's default build would add GBs of CUDA.
ENV PIP_INDEX_URL=https://download.pytorch.org/whl/cpu \
    PIP_EXTRA_INDEX_URL=https://pypi.org/simple \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

RUN useradd --create-home --uid 1000 app
WORKDIR /app
RUN chown app:app /app
USER app

# requirements first: this layer is rebuilt only when requirements.txt changes
COPY --chown=app:app requirements.txt ./
COPY --chown=app:app scripts/setup.sh scripts/
RUN bash scripts/setup.sh

COPY --chown=app:app . .

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4)"
ENTRYPOINT ["bash", "scripts/serve_demo.sh"]
CMD ["--help"]
