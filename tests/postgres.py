"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl on a free 127.0.0.1 port in a temp dir.

Debian puts the server binaries outside PATH (``/usr/lib/postgresql/<major>/bin``), and initdb refuses to
run as root, so as root the cluster is made and started as the ``postgres`` user. ``.ci/run`` installs the
package; on a developer's machine without it the tests that need it skip, but never under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.processes import free_port


def server_bindir() -> Path | None:
    """Where initdb and pg_ctl live: pg_config's answer, else the newest Debian major, else PATH."""
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            bindir = Path(subprocess.run([pg_config, "--bindir"], check=True, capture_output=True,
                                         text=True).stdout.strip())
            if (bindir / "initdb").exists():
                return bindir
    majors = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if majors:
        return Path(majors[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass(frozen=True, slots=True)
class Cluster:
    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


def _as_server_user(cmd: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    """Start a cluster tuned for tests (no fsync) and stop it, whatever happens."""
    bindir = server_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    run_as = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="studiobot-pg-"))
    if run_as:
        pw = pwd.getpwnam(run_as)
        os.chown(root, pw.pw_uid, pw.pw_gid)
    data, port = root / "data", free_port()
    try:
        subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres",
                                        "--no-sync", "-E", "UTF8"], run_as),
                       check=True, capture_output=True)
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" \
                  " -c full_page_writes=off -c max_connections=200"
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
                                        "-l", str(root / "server.log"), "-w", "start"], run_as),
                       check=True, capture_output=True)
        try:
            yield Cluster("127.0.0.1", port, "postgres")
        finally:
            subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                                           run_as), check=False, capture_output=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
