"""The systemd unit passes `systemd-analyze verify` and the daemon speaks sd_notify."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator import systemd

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "aggregator.service"


@pytest.mark.parametrize("name", ["aggregator.service", "aggregator-web.service",
                                  "aggregator@.service"])
def test_unit_verifies(tmp_path, name):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze missing: .ci/services.sh installs the systemd package")
    # verify checks that ExecStart exists: point it at this checkout's console script.
    script = Path(sys.executable).with_name("aggregator")
    unit = tmp_path / name.replace("@.", "@1.")  # a template verifies as an instance
    unit.write_text((UNIT.parent / name).read_text()
                    .replace("/opt/aggregator/.venv/bin/aggregator", str(script)))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    problems = [line for line in done.stderr.splitlines()
                if unit.name in line and "Documentation" not in line]
    assert done.returncode == 0 and not problems, done.stderr


def test_web_unit_is_hardened_and_read_only():
    text = (UNIT.parent / "aggregator-web.service").read_text()
    for line in ("DynamicUser=yes", "User=aggregator", "StateDirectory=aggregator",
                 "ConfigurationDirectory=aggregator", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                 "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "MemoryDenyWriteExecute=yes",
                 "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "MemoryMax=",
                 "After=network-online.target postgresql.service aggregator.service",
                 "aggregator --config ${CONFIGURATION_DIRECTORY} web"):
        assert line in text, line


def test_unit_is_hardened_and_reloadable():
    text = UNIT.read_text()
    for line in ("Type=notify", "Restart=on-failure", "DynamicUser=yes",
                 "StateDirectory=aggregator",
                 "ConfigurationDirectory=aggregator", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ProtectHome=yes", "PrivateTmp=yes", "RestrictAddressFamilies=", "MemoryMax=",
                 "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec="):
        assert line in text, line


def test_notify_sends_to_the_socket_systemd_names(tmp_path, monkeypatch):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert systemd.notify("READY=1")
        assert listener.recv(100) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert systemd.notify("READY=1") is False
    monkeypatch.setenv("WATCHDOG_USEC", "120000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert systemd.watchdog_interval() == 60.0
