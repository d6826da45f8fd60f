#!/bin/bash
# Ordinary work never raises an incident: archives, media imports, photo renames, a build tree, Excel saves and
# a nightly backup, as bob from client2 and as alice from client1, one after the other.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lab sharewarden status >/dev/null 2>&1 || fail "the daemon does not answer status before the test"
t0=$(now_ms)
suite_rc=0
run_benign_suite "$T/benign" >"$T/benign.txt" 2>&1 || suite_rc=$?
while read -r line; do note "$line"; done < <(grep -v '^    ' "$T/benign.txt")
note "benign suite: $(( ($(now_ms) - t0) / 1000 )) s"
# Let the daemon finish what it has read (content checks run after the writes).
sleep 3
# A daemon that died on the way would raise no incident either.
lab sharewarden status >/dev/null 2>&1 || fail "the daemon no longer answers status after the benign suite"

incidents=$(incidents_json) || fail "sharewarden incidents --json failed: $(lab sharewarden status 2>&1 | head -n 3)"
if [ "$(printf '%s' "$incidents" | jq 'length')" != 0 ]; then
	printf '%s' "$incidents" | jq -r '.[] | "incident \(.id): \(.actor.user) \(.actor.ip) \(.state)"' >&2
	for id in $(printf '%s' "$incidents" | jq -r '.[].id'); do
		incident_json "$id" | jq -c '{signals: [.signals[]? | {kind, path, detail}][:8]}' >&2
	done
	fail "ordinary work raised incidents"
fi
assert_json "$incidents" '. == []' "no incidents"
for user in alice bob; do
	flags=$(pdb_flags "$user")
	if printf '%s' "$flags" | grep -q D; then
		fail "$user's account was disabled: $flags"
	fi
done
if [ "$suite_rc" != 0 ]; then
	cat "$T/benign.txt" >&2
	fail "a benign workload failed (see above): a user was refused or saw an error"
fi
