"""A studio process for the crash test: ``submit`` starts a job and hangs; ``resume`` finishes what is left.

Delivery appends ``job_id kind`` lines to a file, standing in for a chat platform.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from core.errors import StudioError
from core.jobs.model import Job, Progress
from core.requests import ImagineRequest, Origin, Requester
from core.results import Result
from core.settings import Settings
from core.studio import open_studio


@dataclass
class FileReply:
    path: Path

    async def progress(self, progress: Progress) -> None:
        return None

    async def post(self, job: Job, result: Result) -> str | None:
        with self.path.open("a") as fh:
            fh.write(f"{job.id} {result.kind} {len(result.data)}\n")
        return job.id

    async def fail(self, job: Job, error: StudioError) -> str | None:
        with self.path.open("a") as fh:
            fh.write(f"{job.id} failed {error.user_message}\n")
        return job.id

    async def handed_off(self, job: Job) -> None:
        return None


@dataclass
class FileHook:
    path: Path
    platform: str = "crashtest"

    def reply_for(self, job: Job) -> FileReply:
        return FileReply(self.path)

    async def reconcile(self, job: Job) -> str | None:
        if self.path.exists() and any(line.startswith(job.id) for line in self.path.read_text().splitlines()):
            return job.id
        return None


async def main(mode: str, data: Path, base_url: str, out: Path) -> None:
    settings = Settings(_env_file=None, data_dir=data, gemini_api_key=SecretStr("test-key"),  # type: ignore[call-arg]
                        gemini_base_url=base_url, gemini_timeout_s=60, gemini_retry_base_s=0.01)
    async with open_studio(settings, hooks=(FileHook(out),)) as studio:
        if mode == "submit":
            job = await studio.submit(ImagineRequest("a slow fox"), Requester("crashtest", "u1"),
                                      Origin("crashtest", channel="c1"))
            print(job.id, flush=True)
            await studio.outcome(job.id)
            await asyncio.sleep(3600)
        while await studio.journal.unfinished() or await studio.journal.undelivered(["crashtest"]):
            await asyncio.sleep(0.05)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["submit", "resume"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(main(args.mode, args.data, args.base_url, args.out))
