#!/bin/bash
# Network isolation end to end: alice's classic attack from client1 while bob works from client2. Her switch
# port goes admin-down on the real (SNMP) lab switch, her IP is blocked, IT gets a mail and a webhook; nothing
# else is shut (uplink, LLDP neighbour, the server's port, the vendor switch); release brings everything back.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

for p in sw-c1 sw-c2 sw-srv "$UPLINK_PORT" "$LLDP_PORT"; do
	assert_eq up "$(port_admin "$p")" "$p before the attack"
done
vendor_before=$(vendor_admin_states)
assert_match '^1( 1)+$' "$vendor_before" "the vendor switch's ifAdminStatus before the attack"
client1_pings || fail "client1 cannot ping the server before the attack"

from=$(audit_lines)
DURATION=15 lab client2 workloads/office.py >"$T/office.out" 2>"$T/office.err" &
office=$!
wait_audit_user bob "$from" || fail "bob's office workload shows no activity in the audit log"

note "alice's classic attack from client1 ($CLIENT1_IP, $CLIENT1_MAC); bob works from client2"
lab attack attacks/classic.py >"$T/attack.out" 2>"$T/attack.err" || fail "the attack script failed: $(tail -n 5 "$T/attack.err")"
id=$(wait_incident alice 20) || fail "no incident naming alice within 20 s"
wait_for '[ "$(incident_state "$id")" = contained ]' 10 || true
wait_for 'action_done "$(incident_json "$id")" port_down' 10 || fail "no port_down action"
inc=$(incident_json "$id")
port=$(action_of "$inc" port_down)
note "incident $id: port_down $(printf '%s' "$port" | jq -r '.result + ": " + .detail')"

# The incident names the switch and the port, and the MAC with where it came from.
assert_json "$inc" '.state == "contained"' "state is contained"
assert_json "$inc" '.actor.switch == "lab"' "actor.switch is lab"
assert_json "$inc" '.actor.port == "sw-c1"' "actor.port is client1's port"
assert_json "$inc" "(.actor.mac | ascii_downcase) == \"$CLIENT1_MAC\"" "actor.mac is client1's"
assert_json "$inc" '(.actor.mac_source // "") != ""' "actor.mac_source is set"
assert_json "$port" '.result == "ok" and .target == "lab sw-c1"' "port_down shut lab sw-c1"
# The guard: client1's MAC is also reported on the uplink, the LLDP port and the vendor switch's uplink and AP port.
assert_json "$port" ".detail | test(\"lab $UPLINK_PORT \\\\(uplink\")" "the uplink was judged an uplink"
assert_json "$port" ".detail | test(\"lab $LLDP_PORT \\\\(LLDP neighbour $LLDP_NAME\")" "the LLDP port was judged by its neighbour"
assert_json "$port" '.detail | test("vendor Te1/1/1 \\(uplink") and test("vendor Gi1/0/24 \\(LLDP neighbour ap-floor3")' \
    "the vendor switch's ports were judged uplinks"

# The switch: client1's port admin-down, every other port up; the vendor switch untouched.
assert_eq down "$(port_admin sw-c1)" "client1's port sw-c1"
for p in sw-c2 sw-srv "$UPLINK_PORT" "$LLDP_PORT"; do
	assert_eq up "$(port_admin "$p")" "port $p"
done
assert_eq "$vendor_before" "$(vendor_admin_states)" "the vendor switch's ifAdminStatus"
if client1_pings; then
	fail "client1 still pings the server"
fi
if client1_smb_opens; then
	fail "client1 still opens an SMB connection"
fi
ip_blocked "$CLIENT1_IP" || fail "$CLIENT1_IP is not in the nft set blocked4: $(ip netns exec swlab-srv nft list set inet sharewarden blocked4 2>&1)"
account_disabled alice || fail "alice is not disabled: $(pdb_flags alice)"
note "sw-c1 down, $CLIENT1_IP blocked, alice disabled; sw-c2, sw-srv, $UPLINK_PORT, $LLDP_PORT up; vendor: $(vendor_admin_states)"

rc=0
wait "$office" || rc=$?
note "bob: $(tail -n 1 "$T/office.out")"
[ "$rc" = 0 ] || fail "bob's office workload failed (exit $rc): $(head -n 5 "$T/office.err")"
assert_match '^ops_ok [0-9]+ ops_failed 0$' "$(tail -n 1 "$T/office.out")" "bob's workload"
assert_eq up "$(port_admin sw-c2)" "client2's port after bob's workload"

# Mail over STARTTLS, and the webhook.
wait_for '[ -n "$(mail_with_subject "incident $id contained")" ]' 15 || fail "no 'contained' mail within 15 s: $(ls "$MAIL_DIR")"
mail=$(mail_with_subject "incident $id contained")
for want in alice "$CLIENT1_IP" "$CLIENT1_MAC" "switch lab port sw-c1" "sharewarden restore $id" "sharewarden release $id"; do
	grep -qF -- "$want" "$mail" || fail "the mail does not name '$want': $(cat "$mail")"
done
assert_json "$(cat "${mail%.eml}.json")" '.tls == true and .rcpt_tos == ["'"$MAIL_TO"'"]' "the mail came over TLS to $MAIL_TO"
wait_for 'cat "$WEBHOOK_DIR"/*.body 2>/dev/null | jq -se "any(.[]; .incident.actor.user == \"alice\")"' 15 ||
    fail "no webhook with incident.actor.user alice: $(ls "$WEBHOOK_DIR")"
note "mail $(basename "$mail") (TLS) and $(find "$WEBHOOK_DIR" -name '*.body' | wc -l) webhook posts received"

# Release: everything back.
lab sharewarden release "$id" >"$T/release.out" 2>&1 || fail "release $id failed: $(cat "$T/release.out")"
grep -q 'port_down lab sw-c1: lab ifindex=[0-9]* up again' "$T/release.out" ||
    fail "release did not bring the port up: $(cat "$T/release.out")"
assert_eq up "$(port_admin sw-c1)" "client1's port after release"
wait_for client1_pings 10 || fail "client1 cannot ping the server after release"
if ip_blocked "$CLIENT1_IP"; then
	fail "$CLIENT1_IP is still blocked after release"
fi
if account_disabled alice; then
	fail "alice is still disabled after release: $(pdb_flags alice)"
fi
write_as alice >"$T/touch.out" 2>&1 || fail "alice cannot work over SMB after release: $(cat "$T/touch.out")"
assert_eq released "$(incident_state "$id")" "state after release"
note "released: sw-c1 up, ping and SMB work, $CLIENT1_IP unblocked, alice enabled"
