"""nginx with deploy/nginx's templates as docker-compose.yml's `proxy` runs them: the
official image's own nginx.conf (tests/support/nginx_image.conf), its templates step (each
`*.template` into conf.d, each `*.stream-template` into stream-conf.d with the `stream`
block that includes them appended), the settings from the `proxy` service's environment.
Every configuration is checked with `nginx -t` before it is started."""

from __future__ import annotations

import getpass
import os
import re
import resource
import shutil
import socket
import string
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.net import free_port
from devstack.process import ChildProcess, wait_for
from tests.support.compose import SERVICES, interpolate
from tests.support.paths import ROOT

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMPLATES = ROOT / "deploy" / "nginx"
IMAGE_CONF = Path(__file__).resolve().parent / "nginx_image.conf"
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def compose_settings() -> dict[str, str]:
    """The `proxy` service's environment, its ${VAR:-default}s as an unset shell leaves them."""
    return {
        key: interpolate(str(value), {}) for key, value in SERVICES["proxy"]["environment"].items()
    }


def _stream_module() -> str:
    """A load_module line where this nginx has the stream module apart (Debian's
    libnginx-mod-stream); nothing where it is built in, as in the official image."""
    built = subprocess.run([NGINX, "-V"], capture_output=True, text=True, check=False).stderr
    if "--with-stream=dynamic" not in built:
        return ""
    found = re.search(r"--modules-path=(\S+)", built)
    module = Path(found[1] if found else "/usr/lib/nginx/modules") / "ngx_stream_module.so"
    if not module.exists():
        pytest.skip(f"{module} is missing (bin/test installs Debian's libnginx-mod-stream)")
    return f"load_module {module};\n"


def _image_conf_in(directory: Path) -> str:
    """The image's nginx.conf with its paths and user pointed at `directory`, every
    directive kept as shipped, and the stream block its templates step appends."""
    text = IMAGE_CONF.read_text()
    user = "root" if os.geteuid() == 0 else getpass.getuser()
    text = re.sub(r"^user\s+\S+;", f"user {user};", text, flags=re.M)
    text = text.replace("/etc/nginx/conf.d/", f"{directory}/conf.d/")
    text = text.replace("/var/log/nginx/", f"{directory}/")
    text = text.replace("/run/nginx.pid", f"{directory}/nginx.pid")
    text = text.replace("/etc/nginx/mime.types", f"{directory}/mime.types")
    stream = f"stream {{\n  include {directory}/stream-conf.d/*.conf;\n}}\n"
    return _stream_module() + text + stream


def render(directory: Path, settings: dict[str, str]) -> None:
    """deploy/nginx's templates and the image's nginx.conf, in `directory`."""
    for sub in ("conf.d", "stream-conf.d"):
        (directory / sub).mkdir(exist_ok=True)
    (directory / "mime.types").write_text("types {\n  text/html html;\n}\n")
    for template in TEMPLATES.iterdir():
        for suffix, sub in ((".stream-template", "stream-conf.d"), (".template", "conf.d")):
            if template.name.endswith(suffix):
                # As the image's envsubst: only the variables its environment defines.
                text = string.Template(template.read_text()).safe_substitute(settings)
                assert "${" not in text, f"{template.name}: a setting compose does not give"
                name = template.name.removesuffix(suffix)
                (directory / sub / name).write_text(text)
                break
    # The test's own temporary paths (the compiled-in ones are the package's).
    (directory / "conf.d" / "zz-test-paths.conf").write_text(
        "".join(f"{kind}_temp_path {directory / kind};\n" for kind in TEMP_PATHS)
    )
    (directory / "nginx.conf").write_text(_image_conf_in(directory))
    # Run as root, nginx's workers drop to an unprivileged user that must reach its files.
    directory.chmod(0o755)


def _argv(directory: Path, *extra: str) -> list[str]:
    return [NGINX, "-p", str(directory), "-e", str(directory / "error.log"),
            "-c", str(directory / "nginx.conf"), *extra]  # fmt: skip


def check(directory: Path) -> None:
    """`nginx -t` of what render() wrote: the stack starts only if it passes."""
    result = subprocess.run(
        _argv(directory, "-t"), capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def worker_connections() -> int:
    """The image's `worker_connections`: how many connections each worker may hold."""
    found = re.search(r"^\s*worker_connections\s+(\d+);", IMAGE_CONF.read_text(), re.M)
    assert found is not None
    return int(found[1])


def make_room_for(descriptors: int) -> None:
    """Raise this process's soft limit on open files (nginx started from it inherits it) to
    at least `descriptors`, within the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = descriptors if hard == resource.RLIM_INFINITY else min(descriptors, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < descriptors:
        pytest.skip(f"the hard limit on open files ({hard}) is below {descriptors}")


def require_nginx() -> None:
    """Skip unless nginx is here with its stream module."""
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (bin/test installs Debian's nginx)")
    _stream_module()


@dataclass
class Proxy:
    port: int
    directory: Path
    process: ChildProcess

    def workers(self) -> int:
        """How many worker processes the master started (`worker_processes auto`)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return len(children.read_text().split())

    def error_log(self) -> str:
        log = self.directory / "error.log"
        return log.read_text(errors="replace") if log.exists() else ""


def _listening(proxy: Proxy) -> bool:
    if not proxy.process.alive:
        raise AssertionError(f"nginx exited:\n{proxy.process.output()}{proxy.error_log()}")
    if not (proxy.directory / "nginx.pid").exists():
        return False
    try:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=2):
            return True
    except OSError:
        return False


@contextmanager
def running_proxy(upstream: str, **overrides: str) -> Iterator[Proxy]:
    """nginx as compose's `proxy` in front of `upstream` (host:port), on a loopback port of
    its own; `overrides` replace settings of the service's environment."""
    require_nginx()
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="controlplane-nginx-"))
    settings = {**compose_settings(), "CONTROLPLANE_UPSTREAM": upstream,
                "PROXY_LISTEN": f"127.0.0.1:{port}", "PROXY_SOCKET_DIR": str(directory),
                **overrides}  # fmt: skip
    render(directory, settings)
    check(directory)
    nginx = ChildProcess(
        "nginx", _argv(directory, "-g", "daemon off;"), env=dict(os.environ), cwd=directory,
        log_path=directory / "output.log", own_group=True,
    )  # fmt: skip
    nginx.start()
    proxy = Proxy(port, directory, nginx)
    try:
        wait_for(lambda: _listening(proxy), 30, "nginx to listen")
        wait_for(lambda: proxy.workers() > 0, 30, "nginx's workers")
        yield proxy
    finally:
        nginx.stop()
        shutil.rmtree(directory, ignore_errors=True)
