#!/bin/bash
# One-command restore after every attack family: the share comes back byte for byte (owner, mode and mtime too),
# notes and encrypted copies are gone, canaries are intact, and bob's edit made during the attack is kept.
# FAMILIES (default: every family of attacks/) picks families when debugging.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

MANIFEST="/usr/bin/python3 $LAB_SRC/manifest.py"
# Each attack starts in a folder of its own that holds no canary, so the files it damages are ordinary documents
# (content and behaviour catch it) and every family finds files nobody touched before.
declare -A ROOT=(
	[classic]=Finance/2024 [intermittent]=HR/Contracts [header_only]=Finance/2025 [outline]=Legal/Contracts
	[slow]=IT/Inventory [notes_first]=Marketing/Brand [silent]=Photos/2024
)
# bob edits this document during every attack; no attack root lies above it.
BOB_FILE=bob/todo-227.txt
[ -f "$SHARE_PATH/$BOB_FILE" ] || fail "$BOB_FILE is not in the share (corpus.py changed?)"

# Share-relative paths of the canaries (`sharewarden canaries`: "STATE  PATH"), to $1; fails unless all are intact.
canaries_intact() {
	local out=$1.out
	lab sharewarden canaries >"$out" 2>&1 || fail "canaries not all intact: $(grep -v '^intact' "$out" | head -n 5)"
	sed -En "s|^[a-z]+[[:space:]]+$SHARE_PATH/||p" "$out" >"$1"
	[ -s "$1" ] || fail "sharewarden canaries listed no canary: $(head -n 5 "$out")"
}

# Id of the first incident naming alice that is not in the JSON list of ids OLD; empty when none.
new_incident() {
	incidents_json | jq -r --argjson old "$1" \
	    '[.[] | select(.actor.user == "alice" and (.id as $i | $old | index($i) | not))][0].id // empty'
}

restore_family() {
	local family=$1 root=${ROOT[$1]} f=$T/$1 before snap bob rc id inc damage t0 ms final live diffs dchanged dgone dnew from
	[ -n "$root" ] || fail "no attack root for family $family"
	before=$(incidents_json | jq -c '[.[].id]')
	canaries_intact "$f.canaries"
	$MANIFEST take "$SHARE_PATH" "$f.before.json"
	lab sharewarden snapshot >"$f.snapshot.out" 2>&1 || fail "$family: sharewarden snapshot failed: $(cat "$f.snapshot.out")"
	snap=$(grep -oE '@GMT-[0-9.-]+' "$f.snapshot.out" | head -n 1)
	if [ -z "$snap" ] || [ ! -d "$SNAP_DIR/$snap" ]; then
		fail "$family: no snapshot in $SNAP_DIR: $(cat "$f.snapshot.out")"
	fi

	rm -f "$f.stop"
	from=$(audit_lines)
	FILE=$BOB_FILE STOP_FILE=$f.stop DURATION=90 lab client2 workloads/edit.py >"$f.bob.out" 2>"$f.bob.err" &
	bob=$!
	wait_audit_user bob "$from" || fail "$family: bob's edits show no activity in the audit log"
	ATTACK_ROOT=$root lab attack "attacks/$family.py" >"$f.attack.out" 2>"$f.attack.err" ||
	    fail "$family: the attack script failed: $(tail -n 5 "$f.attack.err")"
	wait_for "[ -n \"\$(new_incident '$before')\" ]" 20 ||
	    fail "$family: no incident within 20 s of the end of the attack ($(attack_summary "$f.attack.out"))"
	id=$(new_incident "$before")
	wait_for '[ "$(incident_state "$id")" = contained ]' 15 ||
	    fail "$family: incident $id is $(incident_state "$id"), not contained"
	touch "$f.stop"
	rc=0
	wait "$bob" || rc=$?
	[ "$rc" = 0 ] || fail "$family: bob's edits failed (exit $rc): $(head -n 5 "$f.bob.err")"
	assert_match '^ops_ok [0-9]+ ops_failed 0$' "$(tail -n 1 "$f.bob.out")" "$family: bob's edits"
	final=$(sed -n 's/^final //p' "$f.bob.out")

	# What the attack did, seen on the server: manifest files changed or gone, files it added.
	$MANIFEST take "$SHARE_PATH" "$f.damaged.json"
	{ cat "$f.canaries"; echo "$BOB_FILE"; } >"$f.skip"
	damage=$($MANIFEST damage "$f.before.json" "$f.damaged.json" "$f.skip")

	lab sharewarden restore "$id" --dry-run >"$f.dry.out" 2>&1 ||
	    fail "$family: restore $id --dry-run failed (exit $?):
$(head -n 40 "$f.dry.out")"
	$MANIFEST take "$SHARE_PATH" "$f.dry.json"
	$MANIFEST diff "$f.damaged.json" "$f.dry.json" >"$f.dry.diff" ||
	    fail "$family: restore --dry-run changed the share:
$(head -n 20 "$f.dry.diff")"

	t0=$(now_ms)
	rc=0
	lab sharewarden restore "$id" >"$f.restore.out" 2>&1 || rc=$?
	ms=$(( $(now_ms) - t0 ))
	[ "$rc" = 0 ] || fail "$family: restore $id exited $rc:
$(head -n 60 "$f.restore.out")
plan (dry run):
$(head -n 60 "$f.dry.out")"

	# Every file of the manifest is back (bob's excepted: it holds his last save), and nothing else is there.
	$MANIFEST take "$SHARE_PATH" "$f.after.json"
	rc=0
	$MANIFEST diff "$f.before.json" "$f.after.json" "$f.canaries" >"$f.diff" || rc=$?
	live=$(sha256sum <"$SHARE_PATH/$BOB_FILE" | cut -d' ' -f1)
	assert_eq "$final" "$live" "$family: $BOB_FILE holds bob's last save"
	diffs=$(grep -v -e '^differences ' -e "^changed $BOB_FILE (" "$f.diff" || true)
	if [ -n "$diffs" ]; then
		fail "$family: after restore $id the share differs from before the attack:
$diffs
restore output:
$(head -n 60 "$f.restore.out")
plan (dry run):
$(head -n 60 "$f.dry.out")"
	fi
	grep -q "^changed $BOB_FILE (" "$f.diff" || fail "$family: bob's edits of $BOB_FILE are gone"
	canaries_intact "$f.canaries-after"

	inc=$(incident_json "$id")
	assert_json "$inc" '.state == "restored"' "$family: incident $id is restored"
	# what the restore says it did matches the damage (the manifest comparison above is the proof)
	read -r _ dchanged _ dgone _ dnew <<<"$damage"
	if [ $((dchanged + dgone)) -gt 0 ]; then
		assert_json "$inc" '(.restore.restored // 0) > 0' "$family: restore.restored of incident $id"
	fi
	if [ "$dnew" -gt 0 ]; then
		assert_json "$inc" '(.restore.removed // 0) > 0' "$family: restore.removed of incident $id"
	fi
	note "$family from /$root: $(attack_summary "$f.attack.out"); damaged: $damage;" \
	    "restored $(printf '%s' "$inc" | jq -r '.restore.restored'), removed $(printf '%s' "$inc" |
	    jq -r '.restore.removed // 0'), conflicts $(printf '%s' "$inc" | jq -r '.restore.conflicts // 0');" \
	    "restore $ms ms (snapshot $snap)"

	lab sharewarden release "$id" >"$f.release.out" 2>&1 || fail "$family: release $id failed: $(cat "$f.release.out")"
	if pdb_flags alice | grep -q D; then
		fail "$family: alice is still disabled after release $id"
	fi
}

n=0
for family in ${FAMILIES:-classic intermittent header_only outline slow notes_first silent}; do
	restore_family "$family"
	n=$((n + 1))
done
# Restores write into the share as root: none of it may look like an attack.
daemon_caught_up || fail "the daemon did not catch up after the restores"
assert_eq "$n" "$(incident_count)" "number of incidents (one per family)"
