"""deploy/nginx's template under the nginx image's own nginx.conf, checked by `nginx -t`:
the compose proxy is the only published service, so a directive that clashes with the
image's `http` block (a duplicate keepalive_timeout, say) would leave the stack unreachable."""

from __future__ import annotations

import getpass
import os
import re
import shutil
import string
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "default.conf.template"
IMAGE_CONF = Path(__file__).resolve().parent.parent / "support" / "nginx_image.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _image_conf_in(directory: Path) -> str:
    """The image's nginx.conf with its paths and user pointed at `directory`; every
    directive of its `http` block kept as shipped."""
    text = IMAGE_CONF.read_text()
    user = "root" if os.geteuid() == 0 else getpass.getuser()
    text = re.sub(r"^user\s+\S+;", f"user {user};", text, flags=re.M)
    text = text.replace("/etc/nginx/conf.d/", f"{directory}/conf.d/")
    text = text.replace("/var/log/nginx/", f"{directory}/")
    text = text.replace("/run/nginx.pid", f"{directory}/nginx.pid")
    return text.replace("/etc/nginx/mime.types", f"{directory}/mime.types")


def test_the_proxy_template_passes_nginx_t_under_the_image_s_nginx_conf(tmp_path: Path) -> None:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (bin/test installs Debian's nginx)")
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "mime.types").write_text("types {\n  text/html html;\n}\n")
    # As the image's templates step does (envsubst of the container's environment).
    rendered = string.Template(TEMPLATE.read_text()).safe_substitute(
        PROXY_LISTEN="8080", CONTROLPLANE_UPSTREAM="127.0.0.1:8000"
    )
    (tmp_path / "conf.d" / "default.conf").write_text(rendered)
    (tmp_path / "nginx.conf").write_text(_image_conf_in(tmp_path))
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
         "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
