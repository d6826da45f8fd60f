#!/bin/bash
# Isolation when parts of the network fail. One attack with three more switches configured: (a) one where
# nothing answers, (b) the lab switch under a wrong community, (c) a simulated one that refuses the SET of
# ifAdminStatus while it holds client1's MAC on an access port. Each is a failed port_down with its reason;
# every other action still runs and the lab switch port still goes down. Then (d): the SMTP server is down
# for a second attack: containment is as fast, the mail stays queued and is delivered once the server is back.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

cat >>"$SW_CONF" <<EOF
[switch dead]
	address = 127.0.0.1:11999
	community = public
	timeout = 300ms
	retries = 0
[switch wrongcomm]
	address = $SWITCH_IP
	community = not-the-community
	timeout = 300ms
	retries = 0
[switch readonly]
	address = $SNMPSIM_ADDR
	community = readonly
	timeout = 1s
EOF
lab daemon restart >"$T/restart.log" 2>&1 || fail "the daemon did not restart: $(tail -n 5 "$T/restart.log")"

# attack_run: alice's classic attack; sets id and inc (the new incident's JSON once its snapshot is journaled).
attack_run() {
	local before
	# shellcheck disable=SC2034  # read by the condition wait_for evaluates
	before=$(last_id)
	lab attack attacks/classic.py >"$T/attack.out" 2>"$T/attack.err" ||
	    fail "the attack script failed: $(tail -n 5 "$T/attack.err")"
	grep -q '^stopped ' "$T/attack.out" || fail "the attack was not stopped: $(tail -n 3 "$T/attack.out")"
	wait_for '[ "$(last_id)" -gt "$before" ]' 20 || fail "no new incident within 20 s"
	id=$(last_id)
	wait_for 'action_done "$(incident_json "$id")" snapshot' 15 || fail "incident $id: no snapshot action"
	inc=$(incident_json "$id")
}

# Every responder that does not depend on a switch ran, and the lab switch port went down.
assert_contained() {
	assert_json "$inc" '.state == "contained"' "incident $id is contained"
	for kind in lock_account kill_session block_ip; do
		assert_json "$inc" "any(.actions[]; .kind == \"$kind\" and .result == \"ok\")" "$kind ok"
	done
	assert_json "$inc" 'any(.actions[]; .kind == "port_down" and .result == "ok" and .target == "lab sw-c1")' \
	    "port_down shut lab sw-c1"
	assert_json "$inc" '.actor.switch == "lab" and .actor.port == "sw-c1"' "actor.switch and actor.port"
	assert_eq down "$(port_admin sw-c1)" "client1's port"
	account_disabled alice || fail "alice is not disabled"
	ip_blocked "$CLIENT1_IP" || fail "$CLIENT1_IP is not blocked: $(ip netns exec swlab-srv nft list table inet sharewarden 2>&1 | tr '\n\t' '  ')"
}

# ms from detection to the end of containment (contained_at).
contain_ms() {
	echo $(( $(rfc3339_ms "$(printf '%s' "$inc" | jq -r .contained_at)") - \
	    $(rfc3339_ms "$(printf '%s' "$inc" | jq -r .detected_at)") ))
}

note "(a)-(c): classic attack with switches dead, wrongcomm and readonly configured besides lab and vendor"
attack_run
assert_contained
failed_on() {	# SWITCH ERE: a failed port_down action targeting SWITCH whose detail matches ERE
	assert_json "$inc" "any(.actions[]; .kind == \"port_down\" and .target == \"$1\" and .result == \"failed\" and
	    (.detail | test(\"$2\")))" "a failed port_down on $1 saying /$2/"
	note "$1: $(printf '%s' "$inc" | jq -r --arg t "$1" '[.actions[] | select(.kind == "port_down" and .target == $t)][0].detail')"
}
failed_on dead timeout
failed_on wrongcomm 'timeout.*wrong community'
failed_on readonly 'refused'
# The errors of the other switches are actions of their own, journaled before this one.
port=$(printf '%s' "$inc" | jq -c '[.actions[] | select(.kind == "port_down" and .target == "lab sw-c1")][0]')
assert_json "$port" '.detail | test("shutdown failed: readonly ge-0/0/2")' "port_down names the refused port"
assert_json "$port" '.detail | test("not asked: dead: timeout")' "port_down names the dead switch"
assert_eq "1 1 1 1 1 1" "$(vendor_admin_states)" "the vendor switch's ifAdminStatus"
first_ms=$(contain_ms)
note "contained $first_ms ms after detection; sw-c1 down; lock, kill, block ok"
lab sharewarden release "$id" >"$T/release1.out" 2>&1 || fail "release $id failed: $(cat "$T/release1.out")"
assert_eq up "$(port_admin sw-c1)" "client1's port after release"
wait_for client1_pings 10 || fail "client1 cannot ping the server after release"

note "(d): the SMTP server is down during the attack"
# A fresh daemon for the second attack, as t_modes does before each of its attacks.
lab daemon restart >"$T/restart2.log" 2>&1 || fail "the daemon did not restart: $(tail -n 5 "$T/restart2.log")"
lab smtp stop >"$T/smtp.log" 2>&1
attack_run
assert_contained
second_ms=$(contain_ms)
note "contained $second_ms ms after detection (with mail up: $first_ms ms)"
[ "$second_ms" -le $((first_ms + 1000)) ] || fail "containment took $second_ms ms with the SMTP server down ($first_ms with it up)"
detail=$(mail_action_detail "$inc" contained)
assert_match '^contained: attempt 1 failed' "$detail" "the contained mail's state"
note "mail while the server is down: $detail"
lab smtp start >>"$T/smtp.log" 2>&1 || fail "the SMTP server did not start again: $(cat "$T/smtp.log")"
# The daemon retries 5 s after the first attempt, then 10 s later.
wait_for '[ -n "$(mail_with_subject "incident $id contained")" ]' 25 ||
    fail "the queued mail was not delivered within 25 s of the server's return: $(mail_action_detail "$(incident_json "$id")" contained)"
wait_for '[[ "$(mail_action_detail "$(incident_json "$id")" contained)" == "contained: sent"* ]]' 10 ||
    fail "the mail action does not say sent: $(mail_action_detail "$(incident_json "$id")" contained)"
note "after the server came back: $(mail_action_detail "$(incident_json "$id")" contained)"
grep -qF "$CLIENT1_MAC" "$(mail_with_subject "incident $id contained")" || fail "the late mail does not name the MAC"
lab sharewarden release "$id" >"$T/release2.out" 2>&1 || fail "release $id failed: $(cat "$T/release2.out")"
assert_eq up "$(port_admin sw-c1)" "client1's port after the second release"
