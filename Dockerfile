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
EXPOSE 8787 3000
ENTRYPOINT ["studiobot"]
CMD ["run"]
