#!/bin/bash
# Hung dependencies. Alice's classic attack twice: first with every peer healthy (the baseline), then with a
# switch that never answers (a UDP black hole), an SMTP server that accepts and then says nothing, a webhook
# that accepts and never answers, and an smbstatus that hangs 30 s. Detection, the deny, the lock and the kill
# come as fast as in the baseline; the lab switch port still goes down; each hung part is named in the
# incident with its timeout; the daemon's loop stays responsive throughout.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

SNMP_HOLE=11998		# UDP: the switch "blackhole"
SMTP_HOLE=12525		# TCP: accepts, never greets
HOOK_HOLE=12580		# TCP: accepts, never answers
# How much later than in the baseline the deny, the lock and the kill may come: the hung peers' timeouts
# (1 s to 30 s) would show as seconds; the rest is this machine's noise.
SLACK_MS=${HUNG_SLACK_MS:-250}

# attack_run: alice's classic attack; sets id, inc (once port_down is journaled) and files.
attack_run() {
	local before
	# shellcheck disable=SC2034  # read by the condition wait_for evaluates
	before=$(last_id)
	lab attack attacks/classic.py >"$T/attack.out" 2>"$T/attack.err" ||
	    fail "the attack script failed: $(tail -n 5 "$T/attack.err")"
	grep -q '^stopped ' "$T/attack.out" || fail "the attack was not stopped: $(tail -n 3 "$T/attack.out")"
	files=$(files_encrypted "$T/attack.out")
	wait_for '[ "$(last_id)" -gt "$before" ]' 20 || fail "no new incident within 20 s"
	id=$(last_id)
	wait_for 'action_done "$(incident_json "$id")" port_down' 20 || fail "incident $id: no port_down action"
	inc=$(incident_json "$id")
}

# ms from detection to the first action of KIND in $inc.
after_detection() {
	local ms
	ms=$(ms_to_action "$(rfc3339_ms "$(printf '%s' "$inc" | jq -r .detected_at)")" "$inc" "$1")
	[ -n "$ms" ] || fail "incident $id has no $1 action"
	echo "$ms"
}

assert_isolated() {
	assert_json "$inc" '.state == "contained"' "incident $id is contained"
	for kind in deny_writer lock_account kill_session block_ip; do
		assert_json "$inc" "[.actions[] | select(.kind == \"$kind\")][0].result == \"ok\"" "$kind ok"
	done
	assert_json "$inc" 'any(.actions[]; .kind == "port_down" and .result == "ok" and .target == "lab sw-c1")' \
	    "port_down shut lab sw-c1"
	assert_eq down "$(port_admin sw-c1)" "client1's port"
	account_disabled alice || fail "alice is not disabled"
	ip_blocked "$CLIENT1_IP" || fail "$CLIENT1_IP is not blocked"
}

declare -A base
note "baseline: the classic attack with every peer answering"
attack_run
assert_isolated
base_files=$files
for kind in deny_writer lock_account kill_session; do
	base[$kind]=$(after_detection "$kind")
done
note "baseline: $files files; after detection: deny ${base[deny_writer]} ms, lock ${base[lock_account]} ms, kill ${base[kill_session]} ms"
lab sharewarden release "$id" >"$T/release1.out" 2>&1 || fail "release $id failed: $(cat "$T/release1.out")"
assert_eq up "$(port_admin sw-c1)" "client1's port after release"
account_disabled alice && fail "alice is still disabled after release"

note "the peers hang: switch blackhole (UDP $SNMP_HOLE), SMTP (TCP $SMTP_HOLE), webhook (TCP $HOOK_HOLE), smbstatus (30 s)"
ip netns exec swlab-srv setsid /usr/bin/python3 "$(dirname "$0")/tarpit.py" --udp "$SNMP_HOLE" \
    --tcp "$SMTP_HOLE" --tcp "$HOOK_HOLE" --pidfile "$T/tarpit.pid" </dev/null >"$T/tarpit.log" 2>&1 &
wait_for 'grep -q "^ready" "$T/tarpit.log"' 10 || fail "the tarpit did not start: $(cat "$T/tarpit.log")"
tarpit=$(cat "$T/tarpit.pid")
cleanup_tarpit() { kill "$tarpit" 2>/dev/null || true; }
trap cleanup_tarpit EXIT

# smbstatus that hangs 30 s; every other Samba tool is the real one.
mkdir -p "$T/bin"
for tool in smbcontrol pdbedit smbpasswd testparm net; do
	ln -sf "/usr/bin/$tool" "$T/bin/$tool"
done
printf '#!/bin/sh\n# hangs, then answers as the real one would\nsleep 30\nexec /usr/bin/smbstatus "$@"\n' >"$T/bin/smbstatus"
chmod 0755 "$T/bin/smbstatus"
sw_conf_set "samba bin dir" "$T/bin"
sw_conf_set "smbstatus timeout" 2s
sed -i -E -e "s|^(\s*smtp url =).*|\1 smtp://127.0.0.1:$SMTP_HOLE|" \
    -e "s|^(\s*webhook =).*|\1 http://127.0.0.1:$HOOK_HOLE/incident|" \
    -e "s|^(\s*timeout =) 5s$|\1 2s|" "$SW_CONF"
cat >>"$SW_CONF" <<EOF
[switch blackhole]
	address = 127.0.0.1:$SNMP_HOLE
	community = public
	timeout = 1s
	retries = 1
EOF
lab daemon restart >"$T/restart.log" 2>&1 || fail "the daemon did not restart: $(tail -n 5 "$T/restart.log")"

attack_run
assert_isolated
note "hung peers: $files files (baseline $base_files)"
[ "$files" -le $((base_files + 2)) ] || fail "the attack encrypted $files files with hung peers, $base_files without"
for kind in deny_writer lock_account kill_session; do
	ms=$(after_detection "$kind")
	note "$kind: $ms ms after detection (baseline ${base[$kind]} ms)"
	[ "$ms" -le $((base[$kind] + SLACK_MS)) ] ||
	    fail "$kind came $ms ms after detection with hung peers, ${base[$kind]} ms without (slack $SLACK_MS ms)"
done

# Each hung part is named with its timeout.
detail_of() {	# JQ-FILTER on one action: its detail, once some action matches
	printf '%s' "$(incident_json "$id")" | jq -r "[.actions[] | select($1)][0].detail // empty"
}
named() {	# WHAT JQ-FILTER ERE: waits up to 20 s for an action matching the filter whose detail matches ERE
	named_filter=$2 named_ere=$3
	# shellcheck disable=SC2016  # evaluated by wait_for
	wait_for '[[ "$(detail_of "$named_filter")" =~ $named_ere ]]' 20 ||
	    fail "$1: no action saying /$3/: $(detail_of "$2")"
	note "$1: $(detail_of "$2")"
}
named "the switch" '.kind == "port_down" and .target == "blackhole"' \
    "timeout: no SNMP answer from blackhole \\(127\\.0\\.0\\.1:$SNMP_HOLE\\) within 1 s x 2 tries"
assert_json "$(incident_json "$id")" 'any(.actions[]; .kind == "port_down" and .target == "blackhole" and .result == "failed")' \
    "port_down on blackhole failed"
named "smbstatus" '.kind == "kill_session" and (.detail | startswith("sweep"))' \
    'smbstatus gave no answer within 2 s \(smbstatus timeout\)'
named "the SMTP server" '.kind == "notify_mail" and (.detail | startswith("detected:"))' \
    "smtp://127\\.0\\.0\\.1:$SMTP_HOLE: no answer within 2 s \\(timeout\\)"
named "the webhook" '.kind == "notify_webhook" and (.detail | startswith("detected:"))' \
    "http://127\\.0\\.0\\.1:$HOOK_HOLE: no answer within 2 s \\(timeout\\)"

# The loop answered throughout: status comes back at once, and the daemon has not stopped.
t0=$(now_ms)
lab sharewarden status >"$T/status.out" 2>&1 || fail "status failed: $(cat "$T/status.out")"
note "status answered in $(( $(now_ms) - t0 )) ms"
assert_eq 1 "$(incidents_json | jq --argjson id "$id" '[.[] | select(.id == $id)] | length')" "incident $id once"
lab sharewarden release "$id" >"$T/release2.out" 2>&1 || fail "release $id failed: $(cat "$T/release2.out")"
assert_eq up "$(port_admin sw-c1)" "client1's port after the second release"
account_disabled alice && fail "alice is still disabled after the second release"
true
