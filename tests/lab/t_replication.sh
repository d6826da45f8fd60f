#!/bin/bash
# Replication from site 1 to site 2 (btrfs send over SSH to site 2's forced command) that never carries ransomware:
# bob's files reach site 2's replica after the next cycle; while alice's incident is open nothing taken after it
# began is sent; no file the attack wrote is ever in the replica (by hash, against the manifests before and after
# the attack); with the local snapshots gone, `restore --from-replica` brings the clean one back and the share is
# byte-identical to before the attack; replication resumes after the restore; the daemon's own cycles send too.
# lab: SWLAB_SITES=2
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

MANIFEST="/usr/bin/python3 $LAB_SRC/manifest.py"
R=$REPLICA_DIR/$REPL_SENDER/$SMB_SHARE
# The replica's snapshots, oldest first (their names sort by time), and its newest.
replica_list() { find "$R" -mindepth 1 -maxdepth 1 -name '@GMT-*' -printf '%f\n' 2>/dev/null | sort; }
replica_newest() { replica_list | tail -n 1; }
snap_now() {	# OUT: takes a snapshot at site 1, prints its name
	lab sharewarden snapshot >"$1" 2>&1 || fail "sharewarden snapshot failed: $(cat "$1")"
	grep -oE '@GMT-[0-9.-]+' "$1" | head -n 1
}
replicate() {	# OUT: one cycle (exit 0 expected)
	lab sharewarden replicate >"$1" 2>&1 || fail "sharewarden replicate failed (exit $?): $(cat "$1")"
}
bytes_ms() { sed -nE 's/.* ([0-9]+) bytes in ([0-9]+) ms.*/\1 \2/p' "$1" | head -n 1; }

# 0. The forced command is all site 1's key can run at site 2.
rm -f /tmp/sw-repl-pwned
rc=0
ip netns exec swlab-srv ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$REPL_KNOWN" -i "$REPL_KEY" "root@$SITE2_SERVER" \
    'id; touch /tmp/sw-repl-pwned' >"$T/shell.out" 2>&1 || rc=$?
assert_eq 2 "$rc" "a shell command over site 1's key is refused by the forced command (exit)"
[ ! -e /tmp/sw-repl-pwned ] || fail "site 1's key ran a shell command at site 2"
grep -q "not a replication request\|unknown request" "$T/shell.out" ||
    fail "the forced command did not say why it refused: $(cat "$T/shell.out")"

# 1. bob's files at site 1 appear in site 2's replica after the next cycle (a full send: the replica is empty).
FILE=bob/repl-quarterly.txt write_as bob >/dev/null || fail "bob cannot write at site 1"
s1=$(snap_now "$T/s1.out")
replicate "$T/r1.out"
grep -q "$s1 sent (full" "$T/r1.out" || fail "the first cycle did not send $s1 in full: $(cat "$T/r1.out")"
assert_eq "$s1" "$(replica_newest)" "the replica's newest snapshot after the first cycle"
cmp -s "$SHARE_PATH/bob/repl-quarterly.txt" "$R/$s1/bob/repl-quarterly.txt" ||
    fail "bob's file is not in site 2's replica $R/$s1"
$MANIFEST take "$SNAP_DIR/$s1" "$T/s1.json"
$MANIFEST take "$R/$s1" "$T/r1.json"
$MANIFEST diff "$T/s1.json" "$T/r1.json" >"$T/r1.diff" || fail "the replica of $s1 differs from the snapshot:
$(head -n 20 "$T/r1.diff")"
read -r full_bytes full_ms <<<"$(bytes_ms "$T/r1.out")"
# The fleet sees it: site 1's heartbeat carries its replication lag, site 2's `fleet` shows it.
wait_for 'lab site2 sharewarden fleet --json | jq -e ".servers[] | select(.server == \"srv1\") | .replication_lag_s >= 0" >/dev/null' 10 ||
    fail "site 2's fleet does not show srv1's replication lag: $(lab site2 sharewarden fleet)"
note "full send of $s1: $full_bytes bytes in $full_ms ms"

# 2. bob writes again; the clean snapshot before the attack goes incrementally.
FILE=bob/repl-weekly.txt write_as bob >/dev/null || fail "bob cannot write at site 1"
s2=$(snap_now "$T/s2.out")
replicate "$T/r2.out"
grep -q "$s2 sent (incremental from $s1" "$T/r2.out" || fail "$s2 was not sent incrementally from $s1: $(cat "$T/r2.out")"
cmp -s "$SHARE_PATH/bob/repl-weekly.txt" "$R/$s2/bob/repl-weekly.txt" || fail "bob's second file is not in the replica"
read -r inc_bytes inc_ms <<<"$(bytes_ms "$T/r2.out")"
note "incremental send of $s2: $inc_bytes bytes in $inc_ms ms"
lab sharewarden canaries >/dev/null 2>&1 || fail "canaries not intact before the attack"
lab sharewarden canaries 2>/dev/null | sed -En "s|^[a-z]+[[:space:]]+$SHARE_PATH/||p" >"$T/canaries"
$MANIFEST take "$SHARE_PATH" "$T/before.json"
find "$SNAP_DIR" -mindepth 1 -maxdepth 1 -name '@GMT-*' -printf '%f\n' | sort >"$T/clean-snaps"

# 3. alice's silent attack (content only: it encrypts files before it is caught): while her incident is open, no snapshot taken after it began is sent.
ATTACK_ROOT=Photos/2024 lab attack attacks/silent.py >"$T/attack.out" 2>"$T/attack.err" || fail "the attack failed: $(tail -n 5 "$T/attack.err")"
id=$(wait_incident alice 20) || fail "no incident naming alice within 20 s"
wait_for '[ "$(incident_state "$id")" = contained ]' 15 || fail "incident $id is $(incident_state "$id"), not contained"
$MANIFEST take "$SHARE_PATH" "$T/damaged.json"
s3=$(snap_now "$T/s3.out")
replicate "$T/r3.out"
grep -q "held: incident $id is open" "$T/r3.out" || fail "the cycle did not hold for incident $id: $(cat "$T/r3.out")"
assert_eq "$s2" "$(replica_newest)" "the replica's newest snapshot while incident $id is open"
lab sharewarden replication --json >"$T/repl.json"
assert_json "$(cat "$T/repl.json")" '.shares[0].held | test("incident '"$id"' is open")' "replication --json says why it holds"
$MANIFEST carried "$T/before.json" "$T/damaged.json" "$R"/@GMT-* >"$T/carried1" ||
    fail "a file the attack wrote is in site 2's replica:
$(head -n 10 "$T/carried1")"
note "$(attack_summary "$T/attack.out"); $(tail -n 1 "$T/carried1") while the incident is open"

# 4. Site 1 loses every snapshot from before the attack: restore refuses and names the replica; --from-replica
# brings the clean one back and the share is byte-identical to before the attack.
while read -r s; do
	btrfs -q subvolume delete "$SNAP_DIR/$s" >/dev/null || fail "cannot delete the local snapshot $s"
done <"$T/clean-snaps"
rc=0
lab sharewarden restore "$id" >"$T/restore-local.out" 2>&1 || rc=$?
assert_eq 2 "$rc" "restore without a clean local snapshot (exit)"
grep -q -- "--from-replica" "$T/restore-local.out" || fail "restore did not point at --from-replica: $(cat "$T/restore-local.out")"
rc=0
lab sharewarden restore "$id" --from-replica >"$T/restore.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "restore $id --from-replica exited $rc: $(head -n 40 "$T/restore.out")"
grep -q "snapshot $s2 brought back from the replica" "$T/restore.out" || fail "restore did not bring $s2 back: $(head -n 20 "$T/restore.out")"
$MANIFEST take "$SHARE_PATH" "$T/after.json"
$MANIFEST diff "$T/before.json" "$T/after.json" "$T/canaries" >"$T/after.diff" ||
    fail "after restore --from-replica the share differs from before the attack:
$(head -n 20 "$T/after.diff")
restore output:
$(head -n 30 "$T/restore.out")"
assert_json "$(incident_json "$id")" '.state == "restored"' "incident $id is restored"

# 5. Replication resumes after the restore: the next snapshot goes (from the snapshot brought back), the ones
# taken during the incident never do, and the replica still holds no byte the attack wrote.
s4=$(snap_now "$T/s4.out")
replicate "$T/r4.out"
grep -q "$s4 sent (incremental from $s2" "$T/r4.out" || fail "$s4 was not sent after the restore: $(cat "$T/r4.out")"
grep -q "taken during an incident never sent" "$T/r4.out" || fail "the cycle did not report the snapshots it never sends: $(cat "$T/r4.out")"
replica_list | grep -qx -- "$s3" && fail "snapshot $s3, taken during incident $id, is in the replica"
$MANIFEST take "$R/$s4" "$T/r4.json"
$MANIFEST diff "$T/before.json" "$T/r4.json" "$T/canaries" >"$T/r4.diff" ||
    fail "the replica after the restore ($s4) differs from the share before the attack:
$(head -n 20 "$T/r4.diff")"
$MANIFEST carried "$T/before.json" "$T/damaged.json" "$R"/@GMT-* >"$T/carried2" ||
    fail "a file the attack wrote is in site 2's replica after the restore:
$(head -n 10 "$T/carried2")"
lab sharewarden release "$id" >/dev/null 2>&1 || fail "release $id failed"

# 6. The daemon's own cycles ([replication] interval) send a new snapshot without a command.
sed -i '/^\[replication\]/,/^\[/ s/^\tinterval = .*/\tinterval = 2s/' "$SW_CONF"
lab daemon restart >/dev/null 2>&1 || fail "the daemon did not restart"
FILE=bob/repl-daily.txt write_as bob >/dev/null || fail "bob cannot write after the release"
s5=$(snap_now "$T/s5.out")
wait_for '[ "$(replica_newest)" = "$s5" ]' 15 || fail "the daemon did not send $s5 within 15 s: $(lab sharewarden replication)"
cmp -s "$SHARE_PATH/bob/repl-daily.txt" "$R/$s5/bob/repl-daily.txt" || fail "bob's file is not in the daemon-sent replica"
note "replica: $(replica_list | tr '\n' ' ')"
