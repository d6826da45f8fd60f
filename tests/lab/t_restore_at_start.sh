#!/bin/bash
# Protected from the first minute: right after `lab up` (the daemon answers status), an attack at once is restored
# byte for byte by `restore ID` run the way an administrator runs it (from the CLI, a few seconds after
# containment, on the newest incident), with no snapshot taken by hand: the daemon took a clean one before it
# said it was ready. Then the same for the copy-then-delete family, whose encrypted copies include one that the
# instant deny cut short (an empty file whose create_file line says "fail").
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

MANIFEST="/usr/bin/python3 $LAB_SRC/manifest.py"

status=$(lab sharewarden status)
assert_match '^share data: clean snapshot from ' "$(printf '%s\n' "$status" | grep '^share data')" "status names the share's clean snapshot"
ls "$SNAP_DIR"/@GMT-* >/dev/null 2>&1 || fail "no snapshot in $SNAP_DIR right after up"

# Paths of the canaries, which the daemon re-seeds after an incident (left out of the comparison).
canary_list() {
	lab sharewarden canaries | sed -En "s|^[a-z]+[[:space:]]+$SHARE_PATH/||p" >"$1"
}

attack_and_restore() {	# FAMILY ROOT
	local family=$1 root=$2 f=$T/$1 before id rc inc diffs
	before=$(incidents_json | jq -c '[.[].id]')
	$MANIFEST take "$SHARE_PATH" "$f.before.json"
	ATTACK_ROOT=$root lab attack "attacks/$family.py" >"$f.attack.out" 2>"$f.attack.err" ||
	    fail "$family: the attack script failed: $(tail -n 5 "$f.attack.err")"
	wait_for "[ -n \"\$(incidents_json | jq -r --argjson old '$before' '[.[] | select(.id as \$i | \$old | index(\$i) | not)][0].id // empty')\" ]" 20 ||
	    fail "$family: no incident ($(attack_summary "$f.attack.out"))"
	id=$(lab sharewarden incidents --json | jq -r 'max_by(.id).id')
	wait_for '[ "$(incident_state "$id")" = contained ]' 15 || fail "$family: incident $id is not contained"
	rc=0
	lab sharewarden restore "$id" >"$f.restore.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "$family: restore $id exited $rc:
$(head -n 40 "$f.restore.out")"
	canary_list "$f.canaries"
	$MANIFEST take "$SHARE_PATH" "$f.after.json"
	diffs=$($MANIFEST diff "$f.before.json" "$f.after.json" "$f.canaries" | grep -v '^differences ' || true)
	[ -z "$diffs" ] || fail "$family: after restore $id the share differs from before the attack:
$diffs
$(head -n 40 "$f.restore.out")"
	inc=$(incident_json "$id")
	assert_json "$inc" '.state == "restored"' "$family: incident $id is restored"
	note "$family from /$root: $(attack_summary "$f.attack.out"); $(tail -n 2 "$f.restore.out" | head -n 1)"
	lab sharewarden release "$id" >/dev/null 2>&1 || fail "$family: release $id failed"
	# The next family is a new attack by the same user: the daemon must have seen this release first.
	daemon_caught_up || fail "$family: the daemon did not catch up after release $id"
}

attack_and_restore classic Finance/2024
attack_and_restore outline Legal/Contracts
