"""deploy/nginx's templates under the nginx image's own nginx.conf, checked by `nginx -t`:
the compose proxy is the only published service, so a directive that clashes with the
image's `http` block (a duplicate keepalive_timeout, say), or a setting of a template that
the `proxy` service's environment does not give, would leave the stack unreachable."""

from __future__ import annotations

from pathlib import Path

from tests.support.nginx import check, compose_settings, render, require_nginx


def test_the_proxy_templates_pass_nginx_t_under_the_image_s_nginx_conf(tmp_path: Path) -> None:
    require_nginx()
    # As compose gives them, but for the host names of the compose network.
    settings = {**compose_settings(), "CONTROLPLANE_UPSTREAM": "127.0.0.1:8000",
                "PROXY_SOCKET_DIR": str(tmp_path)}  # fmt: skip
    render(tmp_path, settings)
    assert (tmp_path / "stream-conf.d" / "controlplane.conf").exists()
    check(tmp_path)
