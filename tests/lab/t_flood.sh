#!/bin/bash
# Floods and overflow, on one lab. (i) A storm of local file activity on the share overflows the kernel's
# fanotify queue (the daemon's reader held up half a second every 2 s, as on a loaded host) while alice's classic
# attack runs from client1: she alone is caught and contained (disabled, IP blocked), the overflow is in `status`
# and journaled (a notice of its own, and one in her incident), the daemon lives on. (ii) 1,000,000 ordinary
# full_audit lines of 20,000 users are appended in a burst while bob's classic attack runs from client2: bob is
# caught and contained, none of the flood's users gets an incident, the daemon's memory stays under
# FLOOD_RSS_MAX_MB (the actor table is capped at `max actors`) and it reads the whole burst.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

FLOOD_LINES=${FLOOD_LINES:-1000000}
FLOOD_ACTORS=${FLOOD_ACTORS:-20000}
# The daemon starts at about 15 MB; 10,000 actors (max actors) of a few KB each and SQLite's 2 MB cache stay
# well below this; without the cap the same flood took 460 MB.
RSS_MAX_MB=${FLOOD_RSS_MAX_MB:-128}

dpid=$(cat "$LAB_DIR/sharewarden.pid")
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$dpid/status"; }
daemon_alive() { [ "$(cat "/proc/$dpid/comm" 2>/dev/null)" = sharewarden ]; }
daemon_alive || fail "the daemon (pid $dpid) does not run"
note "daemon pid $dpid, RSS $(( $(rss_kb) / 1024 )) MB at the start"

storm=
staller=
sampler=
cleanup() {
	if [ -n "$staller" ]; then kill "$staller" 2>/dev/null || true; fi
	kill -CONT "$dpid" 2>/dev/null || true
	if [ -n "$storm" ]; then kill "$storm" 2>/dev/null || true; fi
	if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; fi
}
trap cleanup EXIT

# ------------------------------------------------------------------ (i) the kernel queue overflows

# In this lab the daemon takes kernel events faster than local processes can make them on btrfs (some 100,000 a
# second), so the storm alone rarely fills the queue. What fills it on a loaded file server is a reader held up
# (CPU starved, a slow disk under the journal): the daemon is stopped for STALL_MS every 2 s while the storm runs,
# and the 16,384-event queue overflows in the kernel each time.
STALL_MS=${FLOOD_STALL_MS:-500}	# below 1000
t_start=$(now_ms)
mkdir -p "$SHARE_PATH/storm"
ip netns exec swlab-srv setsid /usr/bin/python3 "$LAB_SRC/storm.py" "$SHARE_PATH/storm" --procs 1 --files 10000 \
    --dirs 2000 --seconds 60 --pidfile "$T/storm.pid" </dev/null >"$T/storm.out" 2>"$T/storm.err" &
wait_for 'grep -q "^ready" "$T/storm.out"' 30 || fail "the storm did not start: $(cat "$T/storm.err")"
storm=$(cat "$T/storm.pid")
t_ready=$(now_ms)
(
	while kill -0 "$storm" 2>/dev/null; do
		kill -STOP "$dpid"
		sleep "$(printf '0.%03d' "$STALL_MS")"
		kill -CONT "$dpid"
		sleep 1.5
	done
) &
staller=$!
wait_for '[ "$(status_value kernel_overflows)" -gt 0 ]' 15 ||
    fail "the storm did not overflow the kernel queue within 15 s (kernel_events $(status_value kernel_events))"
note "storm: its 10,000 files made in $(( t_ready - t_start )) ms; the kernel queue overflowed" \
    "$(( $(now_ms) - t_ready )) ms after touching them began; overflows $(status_value kernel_overflows)"

note "alice's classic attack from client1 ($CLIENT1_IP) during the storm"
lab attack attacks/classic.py >"$T/alice.out" 2>"$T/alice.err" ||
    fail "alice's attack script failed: $(tail -n 5 "$T/alice.err")"
note "alice: $(attack_summary "$T/alice.out")"
grep -q '^stopped ' "$T/alice.out" || fail "alice's attack was not stopped: $(tail -n 3 "$T/alice.out")"
id=$(wait_incident alice 20) || fail "no incident for alice within 20 s of her attack: $(tail -n 3 "$T/alice.out")"
wait_for '[ "$(incident_state "$id")" = contained ]' 10 || true
wait_for 'ip_blocked "$CLIENT1_IP"' 10 || true
overflows=$(status_value kernel_overflows)
inc=$(incident_json "$id")
first=$(first_write_ms "$T/alice.out" classic)
note "incident $id: $(signal_kinds "$inc"); first write to deny_writer" \
    "$(ms_to_action "$first" "$inc" deny_writer) ms, to kill_session $(ms_to_action "$first" "$inc" kill_session) ms"
assert_json "$inc" ".actor.user == \"alice\" and .actor.ip == \"$CLIENT1_IP\"" "incident $id names alice from client1"
assert_json "$inc" '.state == "contained"' "incident $id is contained"
for kind in lock_account kill_session block_ip; do
	assert_json "$inc" "any(.actions[]; .kind == \"$kind\" and .result == \"ok\")" "$kind ok"
done
account_disabled alice || fail "alice is not disabled"
ip_blocked "$CLIENT1_IP" || fail "$CLIENT1_IP is not blocked"
# The storm goes on until her incident is through: the episode is still running when it opened.
assert_json "$inc" 'any(.notices[]; .kind == "kernel_overflow" and .count > 0)' \
    "incident $id has a kernel_overflow notice (events were lost)"
note "incident $id notice: $(printf '%s' "$inc" | jq -r '[.notices[] | select(.kind == "kernel_overflow")][0].detail')"

kill "$storm"
wait_for '! kill -0 "$storm"' 30 || fail "the storm did not stop"
storm=
wait "$staller" || true
staller=
kill -CONT "$dpid"
note "storm: $(tail -n 1 "$T/storm.out"); kernel_overflows was $overflows when her incident was in"
lab sharewarden status >"$T/status1.out" || fail "status failed after the storm: $(cat "$T/status1.out")"
assert_match '^kernel_overflows [1-9][0-9]* \(last ' "$(grep '^kernel_overflows' "$T/status1.out")" "status"
line=$(grep '^kernel_overflow ' "$T/status1.out" | head -n 1)
assert_match "^kernel_overflow .* to .*: the kernel event queue overflowed (once|[1-9][0-9]* times): .*incidents $id" \
    "$line" "the journaled overflow in status"
note "status: $line"
daemon_alive || fail "the daemon died during the storm"
assert_eq 1 "$(incident_count)" "number of incidents after the storm"

# ------------------------------------------------------------------ (ii) a million audit lines

lines0=$(status_value lines)
evicted0=$(status_value actors_evicted)
: >"$T/rss"
(while :; do rss_kb >>"$T/rss" 2>/dev/null || exit 0; sleep 0.2; done) &
sampler=$!
t0=$(now_ms)
/usr/bin/python3 "$LAB_SRC/flood_audit.py" "$AUDIT_LOG" "$FLOOD_LINES" --share "$SMB_SHARE" --root "$SHARE_PATH" \
    --actors "$FLOOD_ACTORS" >"$T/flood.out" 2>"$T/flood.err" &
flood=$!
# bob's attack starts once the burst is well under way: his lines land behind a backlog of the flood's.
wait_for "[ \$(audit_lines) -gt $(( $(audit_lines) + 200000 )) ] || ! kill -0 $flood" 20 || true
note "bob's classic attack from client2 ($CLIENT2_IP) during the burst"
lab client2 attacks/classic.py >"$T/bob.out" 2>"$T/bob.err" ||
    fail "bob's attack script failed: $(tail -n 5 "$T/bob.err")"
wait "$flood" || fail "the flood script failed: $(cat "$T/flood.err")"
note "flood: $(cat "$T/flood.out") (written in $(( $(now_ms) - t0 )) ms)"
grep -q '^stopped ' "$T/bob.out" || fail "bob's attack was not stopped: $(tail -n 3 "$T/bob.out")"
bid=$(wait_incident bob 30) || fail "no incident for bob within 30 s of his attack"
wait_for '[ "$(incident_state "$bid")" = contained ]' 10 || true
wait_for 'ip_blocked "$CLIENT2_IP"' 10 || true
inc=$(incident_json "$bid")
first=$(first_write_ms "$T/bob.out" classic)
detect_ms=$(( $(rfc3339_ms "$(printf '%s' "$inc" | jq -r .detected_at)") - first ))
note "bob: $(attack_summary "$T/bob.out"); incident $bid: $(signal_kinds "$inc"); first write to detection" \
    "$detect_ms ms, to deny_writer $(ms_to_action "$first" "$inc" deny_writer) ms, to kill_session" \
    "$(ms_to_action "$first" "$inc" kill_session) ms"
assert_json "$inc" ".actor.user == \"bob\" and .actor.ip == \"$CLIENT2_IP\"" "incident $bid names bob from client2"
assert_json "$inc" '.state == "contained"' "incident $bid is contained"
for kind in lock_account kill_session block_ip; do
	assert_json "$inc" "any(.actions[]; .kind == \"$kind\" and .result == \"ok\")" "$kind ok"
done
account_disabled bob || fail "bob is not disabled"
ip_blocked "$CLIENT2_IP" || fail "$CLIENT2_IP is not blocked"

# The daemon reads the whole burst, then stops growing.
want=$(( lines0 + FLOOD_LINES ))
wait_for "[ \"\$(status_value lines)\" -ge $want ]" 60 ||
    fail "the daemon read $(( $(status_value lines) - lines0 )) of the $FLOOD_LINES lines within 60 s"
note "burst read $(( $(now_ms) - t0 )) ms after it began ($(( FLOOD_LINES * 1000 / ($(now_ms) - t0) )) lines/s)"
daemon_caught_up 30 || fail "the daemon did not catch up after the burst"
kill "$sampler" 2>/dev/null || true
sampler=
max_kb=$(sort -n "$T/rss" | tail -n 1)
note "daemon RSS: at most $(( max_kb / 1024 )) MB during the burst, $(( $(rss_kb) / 1024 )) MB after" \
    "(bound $RSS_MAX_MB MB); actors $(status_value actors), forgotten $(( $(status_value actors_evicted) - evicted0 ))"
[ "$max_kb" -lt $(( RSS_MAX_MB * 1024 )) ] ||
    fail "the daemon's RSS reached $(( max_kb / 1024 )) MB during the burst (bound $RSS_MAX_MB MB)"
[ "$(status_value actors)" -le 10000 ] || fail "$(status_value actors) actors kept: more than max actors"
daemon_alive || fail "the daemon died during the burst"
lab sharewarden status >/dev/null || fail "the daemon does not answer status after the burst"

# Only the two attackers: none of the flood's users got an incident.
incidents=$(incidents_json)
assert_json "$incidents" '[.[] | .actor.user] | sort == ["alice", "bob"]' "the incidents are alice's and bob's alone"
assert_eq 0 "$(status_value malformed)" "malformed lines"
note "test time $(( ($(now_ms) - t_start) / 1000 )) s"
