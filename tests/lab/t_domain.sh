#!/bin/bash
# The file server is the AD DC: LAB\alice's attack disables her AD account and release restores its exact flags;
# a Backup Operator is reported, not locked; a DC database that cannot be changed fails the lock alone.
# lab: SWLAB_DOMAIN=dc
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "${LAB_DOMAIN:-}" = dc ] || fail "not a domain lab (lab env has no LAB_DOMAIN=dc)"

# ---- 0. sharewarden check opens the DC's database as the lock will
lab sharewarden check >"$T/check.out" 2>&1 || fail "check failed: $(cat "$T/check.out")"
grep -q '^accounts: samba-ad-dc: the domain DC=lab,DC=test in ' "$T/check.out" ||
    fail "check does not name the domain: $(cat "$T/check.out")"

# ---- 1. LAB\alice from client1
alice0=$(uac alice)
bob0=$(uac bob)
note "before: alice userAccountControl $alice0, bob $bob0"
attack_as alice "$T/attack1.out"
note "attack: $(attack_summary "$T/attack1.out")"
id=$(wait_incident 'LAB\alice' 20) || fail "no incident naming LAB\\alice within 20 s"
wait_action "$id" port_down || true
inc=$(incident_json "$id")
assert_eq 1 "$(incident_count)" "number of incidents"
assert_json "$inc" '.actor.user == "LAB\\alice"' "actor.user is LAB\\alice"
assert_json "$inc" ".actor.ip == \"$CLIENT1_IP\"" "actor.ip is client1's"
assert_json "$inc" "(.actor.mac | ascii_downcase) == \"$CLIENT1_MAC\"" "actor.mac is client1's"
assert_json "$inc" '.state == "contained"' "state is contained"
assert_json "$(action_of "$inc" lock_account)" '.result == "ok"' "lock_account ok"
for k in deny_writer kill_session block_ip port_down; do
	assert_json "$(action_of "$inc" "$k")" '.result == "ok"' "$k ok"
done
detected=$(rfc3339_ms "$(printf '%s' "$inc" | jq -r .detected_at)")
note "after detection: deny $(ms_to_action "$detected" "$inc" deny_writer) ms, lock $(ms_to_action "$detected" "$inc" lock_account) ms, kill $(ms_to_action "$detected" "$inc" kill_session) ms"
alice1=$(uac alice)
note "after: alice userAccountControl $alice1, bob $(uac bob)"
[ $(( alice1 & 2 )) = 2 ] || fail "alice's AD account is not disabled: userAccountControl $alice1"
assert_eq "$bob0" "$(uac bob)" "bob's userAccountControl"
if logon_from_client2 alice >"$T/logon1.out" 2>&1; then
	fail "alice can still log on: $(cat "$T/logon1.out")"
fi
note "alice's logon from client2: $(cat "$T/logon1.out")"
logon_from_client2 bob >"$T/bob.out" 2>&1 || fail "bob cannot log on: $(cat "$T/bob.out")"
lab sharewarden release "$id" >"$T/release1.out" 2>&1 || fail "release $id failed: $(cat "$T/release1.out")"
assert_eq "$alice0" "$(uac alice)" "alice's userAccountControl after release (exactly as before)"
write_as alice >"$T/touch1.out" 2>&1 || fail "alice cannot write after release: $(cat "$T/touch1.out")"

# ---- 2. A Backup Operator (protected by group, not by name)
protected_member_not_locked
id2=$PROTECTED_INCIDENT

# ---- 3. The DC's database cannot be changed: the lock fails with the reason, the rest still runs
sw_conf_set "ad database" "$LAB_DIR/no-such-sam.ldb"
rc=0
lab sharewarden check >"$T/check3.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "check's exit with a DC database that cannot be opened"
grep -q 'no-such-sam.ldb.*the lock will fail' "$T/check3.out" || fail "check does not say why: $(cat "$T/check3.out")"
lab daemon restart >/dev/null 2>&1 || fail "the daemon did not restart"
attack_as alice "$T/attack3.out"
third="(.id > $id2) and .actor.user == \"LAB\\\\alice\""
wait_for '[ -n "$(incident_id "$third")" ]' 20 || fail "no second incident naming LAB\\alice within 20 s"
id3=$(incident_id "$third")
wait_action "$id3" port_down || true
inc=$(incident_json "$id3")
lock=$(action_of "$inc" lock_account)
assert_json "$lock" '.result == "failed"' "lock_account failed"
assert_json "$lock" '.detail | test("no-such-sam.ldb")' "the failure names the database"
for k in deny_writer kill_session block_ip port_down; do
	assert_json "$(action_of "$inc" "$k")" '.result == "ok"' "$k ok although the lock failed"
done
note "failed lock: $(printf '%s' "$lock" | jq -r .detail)"
assert_eq "$alice0" "$(uac alice)" "alice's userAccountControl (the lock could not happen)"
lab sharewarden release "$id3" >"$T/release3.out" 2>&1 || fail "release $id3 failed: $(cat "$T/release3.out")"
