"""Configuration as an administrator meets it: the shipped etc/ passes
`winnowd -t`, the files of an Rspamd first-time setup drop into local.d/
unchanged, configdump shows what took effect, and a broken file is named
with its line by both `winnowd -t` and `winnowadm configtest`."""

import json
import re
import shutil

import pytest

from conftest import FIXTURES, WINNOWADM, WINNOWD, Daemon, binary, run

SETUP = FIXTURES / "rspamd-setup" / "local.d"


@pytest.fixture
def conf(tmp_path):
    """A configuration directory (a copy of etc/) that is never started."""
    return Daemon(tmp_path / "c")


def pw_hash(password):
    p = run([binary(WINNOWADM), "pw", "-p", password])
    assert p.returncode == 0, p.stderr
    h = p.stdout.strip()
    assert h.startswith("$") and "\n" not in h and len(h) > 20, h
    return h


def dump_section(conf, section):
    """configdump SECTION --json parsed to a dict of the section's keys.  The
    JSON may wrap the section in its name ({"actions": {...}})."""
    p = conf.adm("configdump", section, "--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    if isinstance(j, dict) and set(j) == {section}:
        j = j[section]
    return j


def action_value(d, name):
    for k in (name, name.replace("_", " ")):
        if k in d:
            v = d[k]
            return v["score"] if isinstance(v, dict) else v
    raise AssertionError(f"{name} not in {d}")


def test_shipped_config_is_valid(conf):
    p = conf.configtest()
    assert p.returncode == 0, p.stderr + p.stdout
    assert "syntax OK" in p.stdout


def test_configtest_of_shipped_config(conf):
    p = conf.adm("configtest")
    assert p.returncode == 0, p.stderr + p.stdout
    assert "syntax OK" in p.stdout


def test_rspamd_first_time_setup_files(conf):
    for f in SETUP.iterdir():
        shutil.copy(f, conf.etc / "local.d" / f.name)
    # written as an administrator would: hashes from `winnowadm pw -p secret`
    conf.write_local("worker-controller.inc",
                     'bind_socket = "127.0.0.1:11334";\n'
                     f'password = "{pw_hash("secret")}";\n'
                     f'enable_password = "{pw_hash("secret")}";\n')
    p = conf.configtest()
    assert p.returncode == 0, p.stderr + p.stdout
    assert "syntax OK" in p.stdout
    p = conf.adm("configtest")
    assert p.returncode == 0 and "syntax OK" in p.stdout, p.stderr + p.stdout

    # text form, as rspamadm prints it
    p = conf.adm("configdump", "actions")
    assert p.returncode == 0, p.stderr
    text = p.stdout
    for key, want in (("add_header", 6), ("rewrite_subject", 8), ("reject", 15), ("greylist", 4)):
        m = re.search(rf'(?m)^\s*"?{key.replace("_", "[_ ]")}"?\s*[=:]\s*([0-9.]+)', text)
        assert m, f"{key} not in configdump actions:\n{text}"
        assert float(m.group(1)) == want, text
    # JSON form
    actions = dump_section(conf, "actions")
    assert action_value(actions, "add_header") == 6
    assert action_value(actions, "rewrite_subject") == 8
    assert action_value(actions, "reject") == 15
    assert action_value(actions, "greylist") == 4

    redis = dump_section(conf, "redis")
    servers = redis["servers"]
    assert servers == "unix:/run/redis/redis-server.sock" or servers == ["unix:/run/redis/redis-server.sock"], redis

    dkim = dump_section(conf, "dkim_signing")
    assert dkim["path"] == "/var/lib/winnow/dkim/$selector.$domain.key", dkim
    assert dkim["selector_map"] == "/etc/winnow/dkim_selectors.map"
    assert dkim["use_esld"] is False and dkim["allow_username_mismatch"] is True


def test_local_d_overrides_only_what_it_names(conf):
    base = dump_section(conf, "actions")
    conf.write_local("actions.conf", "reject = 20;\n")
    merged = dump_section(conf, "actions")
    assert action_value(merged, "reject") == 20
    # the shipped add_header threshold is still there
    assert action_value(merged, "add_header") == action_value(base, "add_header")


def test_unknown_section_is_reported(conf):
    p = conf.adm("configdump", "no_such_section_xyz")
    assert "NOT FOUND" in p.stdout + p.stderr


@pytest.mark.parametrize("name,text,line", [
    ("actions.conf", "add_header = 6;\nreject = ;\n", 2),
    ("options.inc", "task_timeout = 8s;\nmax_message = 10k;\n{{{\n", 3),
    ("redis.conf", 'servers = "unix:/run/redis/redis-server.sock"\ntimeout = 1s;\n"unterminated\n', 3),
], ids=["empty-value", "stray-braces", "unterminated-string"])
def test_broken_file_is_named(conf, name, text, line):
    conf.write_local(name, text)
    for tool in ("winnowd", "winnowadm"):
        if tool == "winnowd":
            p = conf.configtest()
        else:
            p = conf.adm("configtest")
        out = p.stdout + p.stderr
        assert p.returncode == 1, f"{tool}: exit {p.returncode}\n{out}"
        assert "syntax OK" not in out, out
        assert f"local.d/{name}" in out, f"{tool} does not name the file:\n{out}"
        assert re.search(rf"(:{line}\b|line:? {line}\b)", out), f"{tool} does not name line {line}:\n{out}"


def test_missing_config_file(tmp_path):
    p = run([binary(WINNOWD), "-t", "-c", tmp_path / "nope.conf"])
    assert p.returncode == 1
    assert "nope.conf" in p.stdout + p.stderr


def test_pw_hashes_differ_and_verify():
    a, b = pw_hash("secret"), pw_hash("secret")
    assert a != b, "hashes must be salted"
