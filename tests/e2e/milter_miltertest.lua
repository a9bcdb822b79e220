-- Debian's miltertest (libmilter's own test MTA) against winnowd's proxy:
-- a GTUBE message must be rejected with 554 5.7.1, a ham message accepted
-- with X-Spamd-Result added.  Run by tests/e2e/test_milter_proxy.py with
--   miltertest -D socket=inet:PORT@127.0.0.1 -s milter_miltertest.lua
local function check(cond, what)
    if not cond then error(what) end
end

local function message(conn, subject, body)
    check(mt.macro(conn, SMFIC_MAIL, "i", "4MT" .. subject) == nil, "macro")
    check(mt.mailfrom(conn, "<sender@example.net>") == nil, "mailfrom")
    check(mt.rcptto(conn, "<rcpt@example.com>") == nil, "rcptto")
    check(mt.header(conn, "From", "sender@example.net") == nil, "header From")
    check(mt.header(conn, "To", "rcpt@example.com") == nil, "header To")
    check(mt.header(conn, "Subject", subject) == nil, "header Subject")
    check(mt.header(conn, "Message-ID", "<" .. subject .. "@example.net>") == nil, "header MID")
    check(mt.eoh(conn) == nil, "eoh")
    check(mt.bodystring(conn, body) == nil, "body")
    check(mt.eom(conn) == nil, "eom")
end

local conn = mt.connect(socket, 20, 0.25)
check(conn ~= nil, "cannot connect to " .. socket)
check(mt.conninfo(conn, "client.example.net", "192.0.2.1") == nil, "conninfo")

message(conn, "gtube", "Hello\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "gtube: expected a reply code")
check(mt.eom_check(conn, MT_SMTPREPLY, "554", "5.7.1", "Gtube pattern"), "gtube: not 554 5.7.1 Gtube pattern")

check(mt.abort(conn) == nil, "abort")
message(conn, "lunch", "Shall we meet at noon?\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "ham: expected accept")
check(mt.eom_check(conn, MT_HDRADD, "X-Spamd-Result"), "ham: no X-Spamd-Result added")
check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Status"), "ham: no X-Spam-Status added")

mt.disconnect(conn)
print("miltertest: ok")
