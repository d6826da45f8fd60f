#!/bin/bash
# An attack from a protected service account is reported but never locks the account.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

note "classic attack as svc_backup from client1"
SMB_USER=svc_backup SMB_PASS=Svc-Pass-1 ATTACK_MAX_FILES=80 lab attack attacks/classic.py \
    >"$T/attack.out" 2>"$T/attack.err" || fail "the attack script failed: $(tail -n 5 "$T/attack.err")"
note "attack: $(grep -E '^(stopped|files_encrypted)' "$T/attack.out" | tr '\n' ' ')"

id=$(wait_incident svc_backup 20) || fail "no incident naming svc_backup within 20 s"
note "incident $id"
inc=$(incident_json "$id")
assert_json "$inc" '.actor.user == "svc_backup"' "actor.user is svc_backup"
assert_json "$inc" ".actor.ip == \"$CLIENT1_IP\"" "actor.ip is client1's"
lock=$(action_of "$inc" lock_account)
assert_json "$lock" '.result == "skipped"' "lock_account is skipped"
assert_json "$lock" '.detail | test("protected"; "i")' "lock_account's detail says the account is protected"

flags=$(pdb_flags svc_backup)
if printf '%s' "$flags" | grep -q D; then
	fail "svc_backup was disabled: $flags"
fi
write_as svc_backup >"$T/touch.out" 2>&1 || fail "svc_backup cannot write: $(cat "$T/touch.out")"
