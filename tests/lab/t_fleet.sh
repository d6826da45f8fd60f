#!/bin/bash
# The fleet: two sites, a 3-node NATS JetStream cluster (TLS, one account per customer). alice's classic attack at
# site 1 isolates her at site 2 within a second: her writes there from another PC (client3) are refused, her session
# there is gone, her account there is locked, while bob keeps writing; a release at site 2 releases site 1 too.
# With one NATS node stopped the same holds; with all three stopped site 1 contains alone and site 2 learns of
# the incident within 5 s of NATS coming back.
# lab: SWLAB_SITES=2
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

s2() { lab site2 sharewarden "$@"; }
# Site 2's incident for site 1's incident ID (empty when none).
s2_of() { s2 incidents --json | jq -r --arg o "site1/srv1#$1" '[.[] | select(.origin == $o)][0].id // empty'; }
s2_flags() { lab site2 pdbedit -s "$SITE2_SMB_CONF" -L -v -u "$1" 2>/dev/null | sed -n 's/^Account Flags: *//p'; }
write2_as() { SMB_USER=$1 SMB_PASS=$(lab_pass "$1") FILE=${2:-} lab attack2 workloads/touch.py; }
hears() {	# CLI-PREFIX SERVER: that side's `fleet` lists SERVER, heard from lately
	"$1" fleet --json 2>/dev/null | jq -e --arg s "$2" '.servers[] | select(.server == $s and .silent == false)' >/dev/null
}
labsw() { lab sharewarden "$@"; }
action_ms() {	# INCIDENT_JSON KIND: when its first action of KIND was journaled, ms since the epoch
	rfc3339_ms "$(printf '%s' "$1" | jq -r --arg k "$2" '[.actions[] | select(.kind == $k)][0].at')"
}

# site 1's incident ID reaches site 2: prints site 2's id; asserts deny, kill and lock there within 1 s of detection.
isolated_at_site2() {	# ID WHAT
	local id=$1 id2 inc1 inc2 det deny
	wait_for '[ -n "$(s2_of "$id")" ]' 10 || fail "$2: site 2 has no incident for site1/srv1#$id: $(tail -n 20 "$SITE2_SW_LOG")"
	id2=$(s2_of "$id")
	wait_action "$id2" kill_session 10 || fail "$2: site 2's incident $id2 did not end alice's sessions"
	wait_action "$id2" lock_account 10 || fail "$2: site 2's incident $id2 did not lock alice"
	inc1=$(incident_json "$id")
	inc2=$(s2 incident "$id2" --json)
	for kind in deny_writer kill_session lock_account block_ip; do
		assert_json "$(action_of "$inc2" $kind)" '.result == "ok"' "$2: site 2's $kind"
	done
	assert_json "$inc2" '.actor.user == "alice" and .origin == "site1/srv1#'"$id"'"' "$2: site 2's incident names alice and its origin"
	assert_json "$(action_of "$inc2" port_down)" '.result == "skipped" and (.detail | test("origin site"))' \
	    "$2: site 2 leaves the switch port to site 1"
	det=$(rfc3339_ms "$(printf '%s' "$inc1" | jq -r .detected_at)")
	deny=$(action_ms "$inc2" deny_writer)
	note "$2: detected at site 1 $(printf '%s' "$inc1" | jq -r .detected_at), denied at site 2 $((deny - det)) ms later, locked $(( $(action_ms "$inc2" lock_account) - det )) ms later"
	assert_lt $((deny - det)) 1000 "$2: ms from detection at site 1 to the deny at site 2"
	S2_ID=$id2
	DENY_MS=$deny
}

# 0. Both servers are in the fleet, and alice and bob write at site 2.
wait_for 'hears labsw srv2' 30 || fail "site 1's fleet does not hear srv2: $(labsw fleet)"
wait_for 'hears s2 srv1' 30 || fail "site 2's fleet does not hear srv1: $(s2 fleet)"
note "$(labsw fleet | tail -n +2)"
write2_as alice >/dev/null || fail "alice cannot write at site 2 before the attack"
write2_as bob >/dev/null || fail "bob cannot write at site 2 before the attack"

# 1. alice writes at site 2 from client3 while her PC at site 1 (client1) runs the classic attack.
DURATION=20 SMB_USER=alice SMB_PASS=$(lab_pass alice) lab attack2 workloads/write_loop.py >"$T/loop.out" 2>"$T/loop.err" &
loop=$!
wait_for 'grep -q " ok " "$T/loop.out"' 15 || fail "alice's writes at site 2 did not start: $(tail -n 3 "$T/loop.err")"
lab attack attacks/classic.py >"$T/attack.out" 2>"$T/attack.err" || fail "the attack failed: $(tail -n 5 "$T/attack.err")"
id=$(wait_incident alice 20) || fail "no incident naming alice at site 1 within 20 s"
isolated_at_site2 "$id" "attack 1"
id2=$S2_ID
case $(s2_flags alice) in *D*) ;; *) fail "alice is not disabled at site 2: $(s2_flags alice)" ;; esac
case $(s2_flags bob) in *D*) fail "bob is disabled at site 2" ;; esac
if lab site2 smbstatus -s "$SITE2_SMB_CONF" -b 2>/dev/null | grep -qw alice; then
	fail "alice still has a session at site 2: $(lab site2 smbstatus -s "$SITE2_SMB_CONF" -b)"
fi
if write2_as alice >"$T/alice2.out"; then
	fail "alice's new write at site 2 worked after the isolation"
fi
write2_as bob >"$T/bob2.out" || fail "bob's write at site 2 failed: $(cat "$T/bob2.out")"
wait "$loop" || true
# Not one of alice's writes at site 2 landed after the deny (a write in flight then may end just after).
late=$(awk -v t=$((DENY_MS + 300)) '$2 == "ok" && $1 > t' "$T/loop.out" | wc -l)
assert_eq 0 "$late" "alice's writes at site 2 that landed more than 300 ms after the deny there"
failed=$(awk -v t="$DENY_MS" '$2 == "failed" && $1 >= t' "$T/loop.out" | wc -l)
[ "$failed" -gt 0 ] || fail "alice's write loop at site 2 saw no refusal: $(tail -n 3 "$T/loop.out")"
note "alice at site 2: $(tail -n 1 "$T/loop.out"); first refusal: $(awk '$2 == "failed"' "$T/loop.out" | head -n 1 | cut -d' ' -f2-); $(cat "$T/alice2.out"); $(cat "$T/bob2.out")"

# 2. Released at site 2: released at site 1 too (port up, alice enabled at both sites).
s2 release "$id2" >"$T/release.out" 2>&1 || fail "release at site 2 failed: $(cat "$T/release.out")"
wait_for '[ "$(incident_state "$id")" = released ]' 10 || fail "site 1's incident $id is $(incident_state "$id") after the release at site 2"
wait_for '[ "$(port_admin sw-c1)" = up ]' 5 || fail "client1's port is $(port_admin sw-c1) after the release"
if account_disabled alice; then fail "alice is still disabled at site 1: $(pdb_flags alice)"; fi
case $(s2_flags alice) in *D*) fail "alice is still disabled at site 2: $(s2_flags alice)" ;; esac
write2_as alice >/dev/null || fail "alice cannot write at site 2 after the release"
note "released at site 2: site 1's incident $id released, sw-c1 up, alice enabled at both sites"

# 3. One NATS node down: the same within a second.
lab nats stop 1 >/dev/null
lab attack attacks/classic.py >"$T/attack3.out" 2>"$T/attack3.err" || fail "attack 2 failed: $(tail -n 5 "$T/attack3.err")"
wait_for '[ "$(incident_id "(.actor.user == \"alice\") and .id > '"$id"'")" != "" ]' 20 || fail "no second incident at site 1"
id3=$(incident_id "(.actor.user == \"alice\") and .id > $id")
isolated_at_site2 "$id3" "attack 2, NATS node 1 stopped"
labsw release "$id3" >"$T/release3.out" 2>&1 || fail "release $id3 failed: $(cat "$T/release3.out")"
wait_for '[ "$(s2 incident "$S2_ID" --json | jq -r .state)" = released ]' 10 || fail "site 2 did not release its incident $S2_ID after the release at site 1"
lab nats start 1 >/dev/null

# 4. All of NATS down: site 1 contains alone; site 2 hears of it within 5 s of NATS being back.
for n in 1 2 3; do lab nats stop "$n" >/dev/null; done
lab attack attacks/classic.py >"$T/attack4.out" 2>"$T/attack4.err" || fail "attack 3 failed: $(tail -n 5 "$T/attack4.err")"
wait_for '[ "$(incident_id "(.actor.user == \"alice\") and .id > '"$id3"'")" != "" ]' 20 || fail "no third incident at site 1"
id4=$(incident_id "(.actor.user == \"alice\") and .id > $id3")
wait_for '[ "$(incident_state "$id4")" = contained ]' 10 || fail "site 1 did not contain incident $id4 without NATS: $(incident_state "$id4")"
[ -z "$(s2_of "$id4")" ] || fail "site 2 has an incident for site1/srv1#$id4 while NATS is down"
back=$(now_ms)
for n in 1 2 3; do lab nats start "$n" >/dev/null; done
all=$(now_ms)
wait_for '[ -n "$(s2_of "$id4")" ]' 15 || fail "site 2 never heard of site1/srv1#$id4 after NATS came back"
heard=$(( $(rfc3339_ms "$(s2 incident "$(s2_of "$id4")" --json | jq -r .detected_at)") - back ))
note "NATS back: site 2 opened its incident for site1/srv1#$id4 $heard ms after the first node was started (the three took $((all - back)) ms to start)"
assert_lt "$heard" 5000 "ms from NATS back to site 2's incident"
# The stream has it too (the durable copy, for a server that was away): site 1 has nothing left to send once
# the cluster has elected its stream leaders again (raft elections of 4 to 9 s each, seen taking 3 to 25 s).
wait_for '[ "$(sqlite3 "$LAB_DIR/state/journal.db" "SELECT count(*) FROM fleet_out WHERE sent_at = 0" 2>/dev/null)" = 0 ]' 90 ||
    fail "site 1 still has messages for the stream 90 s after NATS came back: $(labsw fleet)"
note "the stream took site 1's messages $(( $(now_ms) - all )) ms after the last node was started"
labsw release "$id4" >/dev/null 2>&1 || fail "release $id4 failed"
wait_for '[ "$(s2 incident "$(s2_of "$id4")" --json | jq -r .state)" = released ]' 10 || fail "site 2 did not release site1/srv1#$id4"
