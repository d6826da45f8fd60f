#!/bin/bash
# The file server is a member of LAB.TEST (winbind), its DC in a namespace of its own: LAB\alice's attack disables
# her AD account on the DC over LDAP with StartTLS, and release writes back her exact userAccountControl; a Backup
# Operator is reported, not locked; a wrong password fails check; a DC whose LDAP does not answer fails the lock
# alone, naming it, while deny, kill, block and port still run.
# lab: SWLAB_DOMAIN=member
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "${LAB_DOMAIN:-}" = member ] || fail "not a member lab (lab env has no LAB_DOMAIN=member)"

set_uac() {	# USER VALUE
	printf 'dn: CN=%s,CN=Users,DC=lab,DC=test\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: %s\n' \
	    "$1" "$2" >"$T/uac.ldif"
	lab dc ldbmodify -H "$DC_SAM" "$T/uac.ldif" >/dev/null || fail "cannot set $1's userAccountControl to $2"
}

# The DC's LDAP ports drop every packet (as a DC that hangs or a firewall that lost its rule would): an nftables
# table of the DC's namespace, removed again by ldap_answer.
ldap_drop() {
	lab dc nft add table inet swlab_ldap
	lab dc nft add chain inet swlab_ldap input '{ type filter hook input priority 0; }'
	lab dc nft add rule inet swlab_ldap input tcp dport '{ 389, 636 }' drop
}
ldap_answer() { lab dc nft delete table inet swlab_ldap 2>/dev/null || true; }

# Kerberos from client2 (USER's second PC): MODE get asks the KDC for a ticket to cifs/swlab-srv.lab.test and
# keeps it in USER's ccache; MODE use logs on with that ticket alone and writes krb-USER.txt.
krb() {	# USER MODE
	SMB_DOMAIN=LAB.TEST SMB_SERVER_NAME=swlab-srv.lab.test KRB5CCNAME="$T/$1.ccache" MODE=$2 \
	    CLIENT2_USER=$1 CLIENT2_PASS=$(lab_pass "$1") lab client2 workloads/krb_ticket.py
}
trap ldap_answer EXIT

# ---- 0. The member is joined, and sharewarden binds to the DC as the lock will
lab server wbinfo -t >"$T/trust.out" 2>&1 || fail "the member's trust with the DC fails: $(cat "$T/trust.out")"
lab sharewarden check >"$T/check.out" 2>&1 || fail "check failed: $(cat "$T/check.out")"
grep -qx "accounts: ldap: bound to ldap://$DC_FQDN as $SVC_DN" "$T/check.out" ||
    fail "check does not say it bound: $(cat "$T/check.out")"

# ---- 1. LAB\alice from client1, her flags not the default ones (DONT_EXPIRE_PASSWORD): release restores them all
set_uac alice 66048
alice0=$(uac alice)
bob0=$(uac bob)
assert_eq 66048 "$alice0" "alice's userAccountControl before the attack"
note "before: alice userAccountControl $alice0, bob $bob0"
# Kerberos works for both; alice's second PC (client2) keeps her ticket, as Windows does for ten hours.
krb bob get >"$T/krb-bob.out" && krb bob use >>"$T/krb-bob.out" || fail "bob's Kerberos logon failed: $(cat "$T/krb-bob.out")"
krb alice get >"$T/krb-alice0.out" || fail "alice gets no Kerberos ticket: $(cat "$T/krb-alice0.out")"
rm -f "$SHARE_PATH/krb-alice.txt" "$SHARE_PATH/krb-bob.txt"
attack_as alice "$T/attack1.out"
note "attack: $(attack_summary "$T/attack1.out")"
id=$(wait_incident 'LAB\alice' 20) || fail "no incident naming LAB\\alice within 20 s"
wait_action "$id" port_down || true
inc=$(incident_json "$id")
assert_eq 1 "$(incident_count)" "number of incidents"
assert_json "$inc" '.actor.user == "LAB\\alice"' "actor.user is LAB\\alice"
assert_json "$inc" ".actor.ip == \"$CLIENT1_IP\"" "actor.ip is client1's"
assert_json "$inc" '.state == "contained"' "state is contained"
lock=$(action_of "$inc" lock_account)
assert_json "$lock" '.result == "ok"' "lock_account ok ($(printf '%s' "$lock" | jq -r .detail))"
assert_json "$lock" '.detail == "disabled in AD: userAccountControl 66048 -> 66050 (CN=alice,CN=Users,DC=lab,DC=test)"' \
    "lock_account names the old and new userAccountControl and the DN"
for k in deny_writer kill_session block_ip port_down; do
	assert_json "$(action_of "$inc" "$k")" '.result == "ok"' "$k ok"
done
detected=$(rfc3339_ms "$(printf '%s' "$inc" | jq -r .detected_at)")
note "after detection: deny $(ms_to_action "$detected" "$inc" deny_writer) ms, lock $(ms_to_action "$detected" "$inc" lock_account) ms, kill $(ms_to_action "$detected" "$inc" kill_session) ms, block $(ms_to_action "$detected" "$inc" block_ip) ms"
alice1=$(uac alice)
note "after: alice userAccountControl $alice1, bob $(uac bob)"
assert_eq 66050 "$alice1" "alice's userAccountControl on the DC (ACCOUNTDISABLE set, nothing else changed)"
assert_eq "$bob0" "$(uac bob)" "bob's userAccountControl"
if logon_from_client2 alice >"$T/logon1.out" 2>&1; then
	fail "alice can still log on through the member: $(cat "$T/logon1.out")"
fi
grep -q ACCOUNT_DISABLED "$T/logon1.out" || fail "alice's logon is not refused as disabled: $(cat "$T/logon1.out")"
note "alice's logon from client2: $(grep -m1 -o 'STATUS_ACCOUNT_DISABLED' "$T/logon1.out")"
# Over Kerberos: the KDC refuses her a new ticket, but the one her second PC got before the lock still opens a
# session at the member (a disabled AD account ends no ticket): the deny refuses its every open.
if krb alice get >"$T/krb-alice1.out" 2>&1; then
	fail "the KDC still gives alice a ticket after the lock: $(cat "$T/krb-alice1.out")"
fi
if krb alice use >"$T/krb-alice2.out" 2>&1; then
	fail "alice's ticket from before the lock still writes: $(cat "$T/krb-alice2.out")"
fi
# (A refused create may leave an empty file: the kernel creates it before it asks whether the open may go on.)
[ ! -s "$SHARE_PATH/krb-alice.txt" ] || fail "alice's write with her old ticket landed in the share: $(cat "$SHARE_PATH/krb-alice.txt")"
wait_for 'incident_json "$id" | jq -e "any(.actions[]; .kind == \"deny_writer\" and (.detail | test(\"new session of the isolated account\")))"' 5 ||
    fail "no deny_writer action for alice's new session: $(incident_json "$id" | jq -c '[.actions[] | select(.kind == "deny_writer")]')"
note "alice over Kerberos after the lock: new ticket: $(cut -c1-120 "$T/krb-alice1.out"); old ticket: $(cut -c1-120 "$T/krb-alice2.out")"
krb bob use >"$T/krb-bob2.out" || fail "bob's Kerberos logon failed after alice's lock: $(cat "$T/krb-bob2.out")"
logon_from_client2 bob >"$T/bob.out" 2>&1 || fail "bob cannot log on: $(cat "$T/bob.out")"
lab sharewarden release "$id" >"$T/release1.out" 2>&1 || fail "release $id failed: $(cat "$T/release1.out")"
assert_eq "$alice0" "$(uac alice)" "alice's userAccountControl after release (exactly as before)"
write_as alice >"$T/touch1.out" 2>&1 || fail "alice cannot write after release: $(cat "$T/touch1.out")"

# ---- 2. A Backup Operator (protected by group, not by name): reported, not locked
protected_member_not_locked
id2=$PROTECTED_INCIDENT

# ---- 3. A wrong password in the password file (read at each bind: no restart): check names the refused bind
cp "$LDAP_SECRET" "$T/secret.good"
printf 'not-the-password\n' >"$LDAP_SECRET"
rc=0
lab sharewarden check >"$T/check3.out" 2>&1 || rc=$?
cp "$T/secret.good" "$LDAP_SECRET"
assert_eq 1 "$rc" "check's exit with a wrong password"
grep -q "^accounts: ldap: bind as $SVC_DN: Invalid credentials" "$T/check3.out" ||
    fail "check does not name the refused bind: $(cat "$T/check3.out")"
note "wrong password: $(grep '^accounts:' "$T/check3.out" | cut -c1-160)"
# A password file others may read is refused before any bind.
chmod 0644 "$LDAP_SECRET"
rc=0
lab sharewarden check >"$T/check3b.out" 2>&1 || rc=$?
chmod 0600 "$LDAP_SECRET"
assert_eq 2 "$rc" "check's exit with a password file others may read"
grep -q "ldap password file $LDAP_SECRET is open to group or others (mode 644)" "$T/check3b.out" ||
    fail "check does not refuse the readable password file: $(cat "$T/check3b.out")"

# ---- 4. The DC's LDAP does not answer: the lock fails naming it, the rest still runs
ldap_drop
t0=$(now_ms)
rc=0
lab sharewarden check >"$T/check4.out" 2>&1 || rc=$?
took=$(( $(now_ms) - t0 ))
assert_eq 1 "$rc" "check's exit with the DC's LDAP dropped"
grep -q "^accounts: ldap: ldap://$DC_FQDN: no answer within 3 s" "$T/check4.out" ||
    fail "check does not say the DC did not answer: $(cat "$T/check4.out")"
note "DC not answering: check took $took ms: $(grep '^accounts:' "$T/check4.out")"
attack_as alice "$T/attack4.out"
fourth="(.id > $id2) and .actor.user == \"LAB\\\\alice\""
wait_for '[ -n "$(incident_id "$fourth")" ]' 20 || fail "no second incident naming LAB\\alice within 20 s"
id4=$(incident_id "$fourth")
wait_action "$id4" port_down || true
inc=$(incident_json "$id4")
lock=$(action_of "$inc" lock_account)
assert_json "$lock" '.result == "failed"' "lock_account failed"
assert_json "$lock" ".detail | test(\"^ldap://$DC_FQDN: no answer within 3 s\")" "the failure names the DC and the timeout ($(printf '%s' "$lock" | jq -r .detail))"
for k in deny_writer kill_session block_ip port_down; do
	assert_json "$(action_of "$inc" "$k")" '.result == "ok"' "$k ok although the lock failed"
done
detected=$(rfc3339_ms "$(printf '%s' "$inc" | jq -r .detected_at)")
note "failed lock: $(printf '%s' "$lock" | jq -r .detail)"
kill4=$(ms_to_action "$detected" "$inc" kill_session)
block4=$(ms_to_action "$detected" "$inc" block_ip)
[ "$kill4" -lt 1000 ] && [ "$block4" -lt 1000 ] ||
    fail "the DC not answering held the kill ($kill4 ms) or the block ($block4 ms) after detection"
note "after detection with the DC not answering: deny $(ms_to_action "$detected" "$inc" deny_writer) ms, lock $(ms_to_action "$detected" "$inc" lock_account) ms, kill $(ms_to_action "$detected" "$inc" kill_session) ms, block $(ms_to_action "$detected" "$inc" block_ip) ms"
ldap_answer
assert_eq "$alice0" "$(uac alice)" "alice's userAccountControl (the lock could not happen)"
lab sharewarden release "$id4" >"$T/release4.out" 2>&1 || fail "release $id4 failed: $(cat "$T/release4.out")"
