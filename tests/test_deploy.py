"""The deployment examples in deploy/ and docker-compose.yml are valid and keep /metrics and
secrets private. The tools check them when installed (.ci/run installs them:
``scripts/install-system-deps --config-tools``)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
CERTS = "/etc/letsencrypt/live/townhall.example.gov.uk/"


def tool(name: str, *fallbacks: str) -> str:
    found = shutil.which(name) or next((f for f in fallbacks if Path(f).is_file()), None)
    if found is None:
        # CI installs these (.ci/run: install-system-deps --config-tools): fail there, never skip.
        assert not os.environ.get("CI"), f"CI must have {name}: install-system-deps --config-tools"
        pytest.skip(f"{name} is not installed (scripts/install-system-deps --config-tools)")
    return found


def check(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False, cwd=cwd)
    assert proc.returncode == 0, f"{args}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_proxies_never_forward_metrics() -> None:
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert re.search(r"@private path /metrics .*\n\s*respond @private 404", caddy)
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "location = /metrics { return 404; }" in nginx
    for config in (caddy, nginx):
        assert "127.0.0.1:8080" in config


def test_caddy_validates_the_caddyfile() -> None:
    caddy = tool("caddy")
    check([caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"])


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    nginx = tool("nginx", "/usr/sbin/nginx")
    openssl = tool("openssl")
    check(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=townhall.example.gov.uk"),
            *("-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")),
        ]
    )
    site = (DEPLOY / "nginx.conf").read_text()
    assert CERTS in site
    site = site.replace(CERTS, f"{tmp_path}/").replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"  # the stock main config, reduced to what the site needs
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  include {tmp_path}/site.conf;\n}}\n"
    )
    prefix = ["-p", str(tmp_path), "-e", str(tmp_path / "error.log")]
    check([nginx, "-t", *prefix, "-c", str(main)])


def test_compose_takes_secrets_from_the_env_file(tmp_path: Path) -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in compose
    assert re.search(r"townhall:\$\{POSTGRES_PASSWORD:\?[^}]*\}@db:5432/townhall", compose)
    assert "env_file: .env" in compose
    published = re.findall(r'^\s+- "([^"]+)"', compose, re.M)
    assert published and all(p.startswith("127.0.0.1:") for p in published)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored and "*.db" in ignored

    if shutil.which("docker-compose"):
        command = [shutil.which("docker-compose") or "docker-compose"]
    else:
        docker = tool("docker")
        if subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
            assert not os.environ.get("CI"), "CI must have docker-compose (--config-tools)"
            pytest.skip("neither docker-compose nor the docker compose plugin is installed")
        command = [docker, "compose"]
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    missing = subprocess.run(
        [*command, "config", "-q"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert missing.returncode != 0  # no .env: refuses rather than run with a default password
    password = secrets.token_hex(16)
    key = secrets.token_hex(32)
    (tmp_path / ".env").write_text(f"TOWNHALL_SECRET_KEY={key}\nPOSTGRES_PASSWORD={password}\n")
    config = check([*command, "config"], cwd=tmp_path).stdout
    url = f"TOWNHALL_DATABASE_URL: postgresql+asyncpg://townhall:{password}@db:5432/townhall"
    assert url in config


def test_systemd_units_verify(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    townhall = Path(shutil.which("townhall") or ROOT / ".venv" / "bin" / "townhall")
    units = ["townhall.service", "townhall-purge.service", "townhall-purge.timer"]
    for name in units:
        text = (DEPLOY / name).read_text()
        (tmp_path / name).write_text(
            text.replace("/opt/townhall/.venv/bin/townhall", str(townhall))
        )
    check([analyze, "verify", *(str(tmp_path / n) for n in units)])
