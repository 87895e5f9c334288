"""deploy/stack.py without starting anything: the HAProxy configuration it writes for N processes, checked
as text and by ``haproxy -c`` when haproxy is installed. The running stack (an upload through the proxy, a
process killed under a browser) is tested in tests/e2e/test_stack.py."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from deploy import stack

TEMPLATE = stack.CONFIG.read_text()


def test_the_committed_file_is_the_two_process_stack_on_loopback():
    assert "    bind 127.0.0.1:8600\n" in TEMPLATE
    assert "server s1 127.0.0.1:8601 check cookie s1" in TEMPLATE
    assert "server s2 127.0.0.1:8602 check cookie s2" in TEMPLATE
    assert stack.render_config(TEMPLATE, [8601, 8602], "127.0.0.1:8600") == TEMPLATE


def test_the_sticky_cookie_the_websocket_timeout_and_the_health_check():
    assert "cookie SERVERID insert indirect nocache" in TEMPLATE
    assert "timeout tunnel 1h" in TEMPLATE
    assert "option httpchk GET /_stcore/health" in TEMPLATE
    assert "option redispatch" in TEMPLATE
    assert "balance source" not in TEMPLATE  # a classroom behind one NAT would all land on one process


def test_n_servers_each_with_its_own_cookie():
    cfg = stack.render_config(TEMPLATE, [9001, 9002, 9003], "0.0.0.0:9000")
    servers = [line.split() for line in cfg.splitlines() if line.strip().startswith("server ")]
    assert servers == [["server", f"s{i}", f"127.0.0.1:{9000 + i}", "check", "cookie", f"s{i}"] for i in (1, 2, 3)]
    assert "    bind 0.0.0.0:9000\n" in cfg and "bind 127.0.0.1:8600" not in cfg and "8602 check" not in cfg


def test_a_template_without_the_markers_is_refused():
    with pytest.raises(ValueError, match="BEGIN/END servers"):
        stack.render_config(TEMPLATE.replace("# BEGIN servers", "#"), [9001], "127.0.0.1:9000")


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed (apt-get install -y haproxy)")
@pytest.mark.parametrize("n", [1, 2, 5])
def test_haproxy_accepts_the_configuration(tmp_path, n):
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(stack.render_config(TEMPLATE, [20001 + i for i in range(n)], "127.0.0.1:20000"))
    done = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
