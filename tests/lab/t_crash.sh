#!/bin/bash
# Crash and restart mid-incident: the daemon kills itself with SIGKILL (SHAREWARDEN_CRASH_AT) right after it
# journals the incident, right after it locks the account, and in the switch walk right after it shut the port.
# Started again, it finishes the response: alice disabled, client1's port down, its IP blocked, one incident,
# each action once, a sound journal; and release puts everything back (the port's "before" state is the one
# found before the crash, not the "down" the crash left).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

JOURNAL=$LAB_DIR/state/journal.db
PIDFILE=$LAB_DIR/sharewarden.pid

daemon_alive() { local p; p=$(cat "$PIDFILE" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# The number of actions of KIND in an incident's JSON, and how many of them succeeded.
count_kind() { printf '%s' "$1" | jq --arg k "$2" '[.actions[] | select(.kind == $k)] | length'; }
count_ok() { printf '%s' "$1" | jq --arg k "$2" '[.actions[] | select(.kind == $k and .result == "ok")] | length'; }

crash_case() {	# POINT ATTACK_ROOT
	local point=$1 root=$2 f=$T/$1 before log_from id inc new rc t0
	before=$(incidents_json | jq '[.[].id] | max // 0')
	log_from=$(wc -l <"$SW_LOG")
	SHAREWARDEN_CRASH_AT=$point lab daemon restart >"$f.restart.out" 2>&1 || fail "$point: daemon restart: $(cat "$f.restart.out")"

	ATTACK_MAX_FILES=40 ATTACK_ROOT=$root lab attack attacks/classic.py >"$f.attack.out" 2>"$f.attack.err" &
	local attack=$!
	wait_for '! daemon_alive' 30 || fail "$point: the daemon did not kill itself at $point"
	tail -n +"$((log_from + 1))" "$SW_LOG" | grep -q "SHAREWARDEN_CRASH_AT=$point: killing myself" ||
	    fail "$point: the daemon died, but not at $point: $(tail -n 5 "$SW_LOG")"
	t0=$(now_ms)
	lab daemon start >"$f.start.out" 2>&1 || fail "$point: daemon start after the crash: $(cat "$f.start.out")"

	new="[.[] | select(.id > $before)]"
	wait_for "[ \"\$(incidents_json | jq '$new | length')\" -ge 1 ]" 10 || fail "$point: no new incident"
	id=$(incidents_json | jq -r "$new | min_by(.id).id")
	wait_for '[ "$(incident_state "$id")" = contained ] && action_done "$(incident_json "$id")" notify_syslog' 30 ||
	    fail "$point: incident $id not finished after the restart: $(incident_json "$id" | jq -c '[.state, [.actions[] | [.kind, .result]]]')"
	rc=0
	wait "$attack" || rc=$?
	note "$point: incident $id finished $(( $(now_ms) - t0 )) ms after the restart; attack: $(attack_summary "$f.attack.out") (exit $rc)"

	inc=$(incident_json "$id")
	assert_eq 1 "$(incidents_json | jq "$new | length")" "$point: incidents opened"
	assert_eq 1 "$(count_kind "$inc" lock_account)" "$point: lock_account actions"
	assert_eq 1 "$(count_ok "$inc" lock_account)" "$point: lock_account ok (ours to undo, not 'already disabled')"
	# The kill, then the smbstatus sweep: each once, both ok.
	assert_eq 2 "$(count_kind "$inc" kill_session)" "$point: kill_session actions (the kill and the sweep)"
	assert_eq 2 "$(count_ok "$inc" kill_session)" "$point: kill_session ok"
	assert_eq 1 "$(count_ok "$inc" block_ip)" "$point: block_ip ok"
	assert_eq 1 "$(count_ok "$inc" port_down)" "$point: port_down ok"
	assert_json "$(action_of "$inc" port_down)" '.target == "lab sw-c1" and (.detail | test("^shut lab ifindex=[0-9]+ before=1"))' \
	    "$point: port_down shut sw-c1, found up"
	assert_json "$inc" '[.actions[] | select(.result == "running")] | length == 0' "$point: no action left running"
	assert_json "$inc" '.actor.port == "sw-c1"' "$point: actor.port"
	account_disabled alice || fail "$point: alice is not disabled: $(pdb_flags alice)"
	assert_eq down "$(port_admin sw-c1)" "$point: client1's port"
	assert_eq up "$(port_admin sw-c2)" "$point: client2's port"
	ip_blocked "$CLIENT1_IP" || fail "$point: $CLIENT1_IP is not blocked"
	assert_eq ok "$(sqlite3 "$JOURNAL" 'PRAGMA integrity_check')" "$point: journal integrity_check"

	lab sharewarden release "$id" >"$f.release.out" 2>&1 || fail "$point: release $id failed: $(cat "$f.release.out")"
	grep -q 'port_down lab sw-c1: lab ifindex=[0-9]* up again' "$f.release.out" ||
	    fail "$point: release did not bring the port up: $(cat "$f.release.out")"
	grep -q 'lock_account alice: enabled again' "$f.release.out" ||
	    fail "$point: release did not enable alice: $(cat "$f.release.out")"
	assert_eq up "$(port_admin sw-c1)" "$point: client1's port after release"
	if ip_blocked "$CLIENT1_IP"; then
		fail "$point: $CLIENT1_IP is still blocked after release"
	fi
	if account_disabled alice; then
		fail "$point: alice is still disabled after release: $(pdb_flags alice)"
	fi
	wait_for client1_pings 10 || fail "$point: client1 cannot ping the server after release"
	daemon_caught_up || fail "$point: the daemon did not catch up after release $id"
	note "$point: released: sw-c1 up, $CLIENT1_IP unblocked, alice enabled"
}

crash_case detected Finance/2024
crash_case after_lock Legal/Contracts
crash_case switch_walk HR

# Restarted with nothing left to finish, it does nothing again.
actions=$(sqlite3 "$JOURNAL" 'SELECT count(*) FROM actions')
lab daemon restart >/dev/null 2>&1 || fail "a clean restart failed"
daemon_caught_up || fail "the daemon did not catch up after a clean restart"
assert_eq "$actions" "$(sqlite3 "$JOURNAL" 'SELECT count(*) FROM actions')" "actions after a restart with nothing to finish"
assert_eq up "$(port_admin sw-c1)" "client1's port after a clean restart"
if account_disabled alice; then
	fail "alice is disabled again after a clean restart"
fi
