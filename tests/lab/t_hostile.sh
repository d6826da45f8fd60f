#!/bin/bash
# Hostile audit lines ('|' and newlines in names, truncation, 64 KiB, binary, format strings) neither
# crash nor blind the daemon: it counts them as malformed and still catches the next attack.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lab sharewarden status >/dev/null 2>&1 || fail "the daemon does not answer status before the test"

note "appending hostile lines to $AUDIT_LOG"
/usr/bin/python3 - "$AUDIT_LOG" "$SHARE_PATH" <<'PY'
import random, sys, time
log, share = sys.argv[1], sys.argv[2].encode()
def prefix(pid=31337):
	t = time.time()
	return (time.strftime("[%Y/%m/%d %H:%M:%S", time.localtime(t)) + ".%06d,  1, pid=%d]   " % (int(t % 1 * 1e6), pid)).encode()
who = b"mallory|10.77.0.66||data|31337|"
rng = random.Random(7)
lines = [
	# '|' inside both names of a rename, and a name that holds '|' plus something that looks like a path
	prefix() + who + b"renameat|ok|" + share + b"/a|b.docx|" + share + b"/x|/etc/passwd|c.docx",
	prefix() + who + b"renameat|ok|" + share + b"/q|" + share + b"/fake.docx|" + share + b"/r.docx",
	# a name with a newline: the entry spans two lines
	prefix() + who + b"create_file|ok|0x12019f|file|overwrite_if|" + share + b"/first line\nsecond line.docx",
	# truncated lines
	prefix()[:17],
	prefix() + b"alice|10.77",
	prefix() + who + b"renameat|ok|",
	prefix() + who + b"renameat|ok|" + share + b"/only-one-path.docx",
	b"  alice|10.77.0.11||data|",
	# one 64 KiB line
	prefix() + who + b"pwrite_send|ok|" + share + b"/" + b"A" * 65536,
	# binary garbage, NUL bytes included
	bytes(rng.randrange(256) for _ in range(3000)).replace(b"\n", b"\x00"),
	prefix() + b"\x00\x01\x02\xff\xfe|\x00|\x00\x00|data|\x00|openat|ok|w|" + b"\xff" * 64,
	# format strings and invalid UTF-8 where names go
	prefix() + b"%n%s%x|10.77.0.66|%n%n|data|31337|openat|ok|w|" + share + b"/%n%s%p%hhn.docx",
	prefix() + who + b"openat|ok|w|" + share + b"/\xff\xfe\xc3(%n%s.docx",
	prefix() + b"mallory|%s%s%s%s|%n||data|notapid|openat|ok|w|" + share + b"/x.docx",
]
with open(log, "ab") as f:
	for line in lines:
		f.write(line + b"\n")
PY

wait_for '[ "$(malformed_count)" -gt 0 ]' 10 || fail "status does not report malformed lines > 0: $(lab sharewarden status 2>&1 | tr '\n' ' ')"
note "status: malformed $(malformed_count)"
lab sharewarden status >/dev/null || fail "the daemon does not answer status after the hostile lines"
daemon_caught_up || fail "the daemon did not catch up with the hostile lines"
assert_eq 0 "$(incident_count)" "incidents opened by the hostile lines"

note "a classic attack after the hostile lines"
lab attack attacks/classic.py >"$T/attack.out" 2>"$T/attack.err" || fail "the attack script failed: $(tail -n 5 "$T/attack.err")"
note "attack: $(grep -E '^(stopped|files_encrypted)' "$T/attack.out" | tr '\n' ' ')"
id=$(wait_incident alice 20) || fail "the attack after the hostile lines was not detected within 20 s"
wait_for '[ "$(incident_state "$id")" = contained ]' 10 || true
inc=$(incident_json "$id")
assert_json "$inc" '.state == "contained"' "state is contained"
assert_json "$inc" ".actor.ip == \"$CLIENT1_IP\"" "actor.ip is client1's"
lab sharewarden status >/dev/null || fail "the daemon does not answer status at the end"
