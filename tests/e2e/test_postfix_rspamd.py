"""The Postfix harness proved against Rspamd 3.4's own milter proxy.

The same scenarios as test_postfix_milter.py, with Debian's rspamd
(`worker "rspamd_proxy" { milter = yes; upstream "local" { self_scan = yes; } }`
on a unix socket, mode 0660, group winnow-milter with postfix in it) as the
daemon under test.  If these fail, the harness is wrong, not winnow.  Slow
(Rspamd needs ~30 s to start, and the outage tests restart it): deselect
with `-k 'not rspamd'` when iterating on winnow.
"""

import shutil

import pytest

import postfix as pfx

reason = pfx.postfix_available() or pfx.rspamd_available()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


@pytest.fixture(scope="module")
def rspamd(redis):
    group = pfx.ensure_milter_group()
    work = pfx.make_tmpdir("winnow-rspamd-")
    dns = pfx.NxDns()
    rs = pfx.Rspamd(work / "rs", redis_sock=redis.sock, dns_port=dns.port, group=group,
                    local={"actions.conf": pfx.RSPAMD_TEST_ACTIONS,
                           "greylist.conf": "check_local = false;\ntimeout = 1s;\n"})
    rs.start()
    yield rs
    rs.stop()
    dns.stop()
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def postfix(rspamd):
    pf = pfx.Postfix(milter=rspamd.milter, default_action="tempfail")
    pf.start()
    yield pf
    pf.stop()


def daemon_of(rs):
    def start():
        if not rs.alive():
            rs.start()
    return pfx.MilterDaemon(rs.milter, start, rs.stop)


def test_rspamd_socket_permissions(rspamd):
    import grp
    import os
    import stat
    st = os.stat(rspamd.sock)
    assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
    assert grp.getgrgid(st.st_gid).gr_name == pfx.MILTER_GROUP


def test_rspamd_ham_smtp(postfix):
    pfx.scenario_ham_smtp(postfix)


def test_rspamd_gtube_rejected(postfix):
    pfx.scenario_gtube_rejected(postfix)


def test_rspamd_greylist_tempfail(postfix):
    pfx.scenario_greylist_tempfail(postfix)


def test_rspamd_rewrite_subject(postfix):
    pfx.scenario_rewrite_subject(postfix)


def test_rspamd_sendmail_scanned(postfix):
    pfx.scenario_sendmail_scanned(postfix)


def test_rspamd_down_accept(postfix, rspamd):
    d = daemon_of(rspamd)
    try:
        pfx.scenario_down_accept(postfix, d)
    finally:
        d.start()


def test_rspamd_down_tempfail(postfix, rspamd):
    d = daemon_of(rspamd)
    try:
        pfx.scenario_down_tempfail(postfix, d, d.start)
    finally:
        d.start()
