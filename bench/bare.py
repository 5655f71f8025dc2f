"""The floor every ack figure is compared with: bots on the same libraries that only acknowledge.

``python -m bench.bare discord`` logs in with discord.py and defers every /speak, /imagine and /edit
("thinking…"), nothing more. ``python -m bench.bare slack`` is a Bolt app over HTTP that acks
every /speak and /imagine with a line of text. ``python -m bench.bare gemini KINDS N C`` calls the
emulator N times per kind (comma-separated), C at once, with the plain google-genai client and
prints each call's seconds and the wall time per kind as JSON: the provider's own latency under the
same concurrency, without the bot. Settings come from
the same environment variables the real bot reads. Prints "ready" on stderr once serving.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

import discord
import yarl
from aiohttp import web
from discord import app_commands

from bench.load import DRAWN, EDITED, SPOKEN, source_png
from core.settings import DEFAULT_IMAGE_MODEL, DEFAULT_TTS_MODEL


def _env(name: str) -> str:
    return os.environ[name]


async def bare_discord() -> None:
    discord.http.Route.BASE = _env("STUDIOBOT_DISCORD_API_BASE").rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(_env("STUDIOBOT_DISCORD_GATEWAY_URL"))
    intents = discord.Intents.none()
    intents.guilds = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.05)
    tree = app_commands.CommandTree(client)

    async def ack(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)

    @tree.command(name="speak", description="speak")
    async def speak(interaction: discord.Interaction, text: str) -> None:
        await ack(interaction)

    @tree.command(name="imagine", description="imagine")
    async def imagine(interaction: discord.Interaction, prompt: str) -> None:
        await ack(interaction)

    @tree.command(name="edit", description="edit")
    async def edit(interaction: discord.Interaction, image: discord.Attachment, instruction: str) -> None:
        await ack(interaction)

    @client.event
    async def on_ready() -> None:
        print("ready", file=sys.stderr, flush=True)

    async with client:
        await client.start(_env("DISCORD_TOKEN"))


async def bare_slack() -> None:
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=_env("SLACK_BOT_TOKEN"), base_url=_env("STUDIOBOT_SLACK_API_URL"))
    app = AsyncApp(client=client, signing_secret=_env("SLACK_SIGNING_SECRET"))

    async def on_command(ack: AsyncAck) -> None:
        await ack("Working on it…")

    app.command("/speak")(on_command)
    app.command("/imagine")(on_command)
    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(_env("STUDIOBOT_SLACK_PORT"))).start()
    print("ready", file=sys.stderr, flush=True)
    await asyncio.Event().wait()


async def bare_gemini(kinds: list[str], n: int, concurrency: int) -> None:
    from google import genai
    from google.genai import types

    client = genai.Client(api_key=_env("GEMINI_API_KEY"), http_options=types.HttpOptions(
        base_url=_env("STUDIOBOT_GEMINI_BASE_URL"), retry_options=types.HttpRetryOptions(attempts=1)))
    source = types.Part.from_bytes(data=source_png(), mime_type="image/png")

    gate = asyncio.Semaphore(concurrency)

    async def one(kind: str, i: int) -> float:
        async with gate:
            return await call(kind, i)

    async def call(kind: str, i: int) -> float:
        if kind == "mix":  # speech and images alternating, as the bot's two pools take them
            kind = ("speak", "imagine")[i % 2]
        start = time.monotonic()
        if kind == "speak":
            voice = types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Kore"))
            config = types.GenerateContentConfig(response_modalities=["AUDIO"],
                                                 speech_config=types.SpeechConfig(voice_config=voice))
            contents: list[types.Part | str] = [SPOKEN]
            model = DEFAULT_TTS_MODEL
        else:
            config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"])
            contents = [DRAWN] if kind == "imagine" else [source, EDITED]
            model = DEFAULT_IMAGE_MODEL
        resp = await client.aio.models.generate_content(model=model, contents=contents, config=config)
        part = next(p for p in resp.candidates[0].content.parts if p.inline_data)  # type: ignore[index,union-attr]
        assert part.inline_data is not None and part.inline_data.data
        return time.monotonic() - start

    found: dict[str, dict[str, object]] = {}
    for kind in kinds:
        await call(kind, -1)  # the first call opens the connection pool; time the rest
        start = time.monotonic()
        seconds = await asyncio.gather(*(one(kind, i) for i in range(n)))
        found[kind] = {"calls": seconds, "wall": time.monotonic() - start}
    await client.aio.aclose()
    print(json.dumps(found))


def main() -> None:
    what = sys.argv[1]
    if what == "discord":
        asyncio.run(bare_discord())
    elif what == "slack":
        asyncio.run(bare_slack())
    else:
        asyncio.run(bare_gemini(sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])))


if __name__ == "__main__":
    main()
