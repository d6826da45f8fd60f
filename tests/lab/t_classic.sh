#!/bin/bash
# A classic attack from client1 while bob works from client2: alice alone is stopped, named, and released.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

total=$(share_file_count)
from=$(audit_lines)
DURATION=25 lab client2 workloads/office.py >"$T/office.out" 2>"$T/office.err" &
office=$!
wait_audit_user bob "$from" || fail "bob's office workload shows no activity in the audit log"

note "alice's classic attack from client1 ($CLIENT1_IP), $total files in the share"
t0=$(now_ms)
lab attack attacks/classic.py >"$T/attack.out" 2>"$T/attack.err" || fail "the attack script failed: $(tail -n 5 "$T/attack.err")"
note "attack: $(grep -E '^(stopped|files_encrypted)' "$T/attack.out" | tr '\n' ' ')"

left=$(( 20 - ($(now_ms) - t0) / 1000 ))
wait_for '[ "$(incident_count)" -ge 1 ]' "$(( left > 1 ? left : 1 ))" || fail "no incident within 20 s of the attack"
assert_eq 1 "$(incident_count)" "number of incidents"
id=$(incident_id true)
note "incident $id"

wait_for '[ "$(incident_state "$id")" = contained ]' 10 || true
inc=$(incident_json "$id")
assert_json "$inc" '.actor.user == "alice"' "actor.user is alice"
assert_json "$inc" ".actor.ip == \"$CLIENT1_IP\"" "actor.ip is client1's"
assert_json "$inc" "(.actor.mac | ascii_downcase) == \"$CLIENT1_MAC\"" "actor.mac is client1's"
assert_json "$inc" '.state == "contained"' "state is contained"
assert_json "$inc" 'any(.actions[]; .kind == "lock_account" and .result == "ok")' "lock_account ok"
assert_json "$inc" 'any(.actions[]; .kind == "kill_session" and .result == "ok")' "kill_session ok"

flags=$(pdb_flags alice)
assert_match 'D' "$flags" "alice's account flags"
if write_as alice >"$T/touch1.out" 2>&1; then
	fail "alice can still write: $(cat "$T/touch1.out")"
fi
note "alice's write: $(cat "$T/touch1.out")"

grep -q '^stopped ' "$T/attack.out" || fail "the attack was not stopped: $(tail -n 3 "$T/attack.out")"
n=$(sed -n 's/^files_encrypted //p' "$T/attack.out")
assert_lt "$n" "$total" "files encrypted"
note "files encrypted before the attack stopped: $n of $total"

rc=0
wait "$office" || rc=$?
note "bob: $(cat "$T/office.out")"
[ "$rc" = 0 ] || fail "bob's office workload failed (exit $rc): $(head -n 5 "$T/office.err")"
assert_match '^ops_ok [0-9]+ ops_failed 0$' "$(tail -n 1 "$T/office.out")" "bob's workload"
assert_eq 1 "$(incident_count)" "number of incidents after bob's workload"

lab sharewarden release "$id" >"$T/release.out" 2>&1 || fail "release $id failed: $(cat "$T/release.out")"
write_as alice >"$T/touch2.out" 2>&1 || fail "alice cannot write after release: $(cat "$T/touch2.out")"
flags=$(pdb_flags alice)
if printf '%s' "$flags" | grep -q D; then
	fail "alice is still disabled after release: $flags"
fi
assert_eq released "$(incident_state "$id")" "state after release"
