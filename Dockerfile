# Studiobot: one image for the bots, the playground and the Gemini emulator.
# ffmpeg and espeak-ng come from wheels (imageio-ffmpeg, espeakng-loader): no system packages needed.
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY core ./core
COPY adapters ./adapters
COPY bots ./bots
COPY emulator ./emulator
RUN python -m venv /opt/studiobot && /opt/studiobot/bin/pip install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 studiobot
COPY --from=build /opt/studiobot /opt/studiobot
ENV PATH=/opt/studiobot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    STUDIOBOT_DATA_DIR=/data
RUN mkdir /data && chown studiobot /data
VOLUME ["/data"]
USER 10001
WORKDIR /home/studiobot
EXPOSE 8787 3000 9108
# /healthz answers while the event loop runs (keep STUDIOBOT_METRICS_PORT set: 0 turns the endpoint off)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('STUDIOBOT_METRICS_PORT', '9108') + '/healthz', timeout=4)"]
ENTRYPOINT ["studiobot"]
CMD ["run"]
