# Helpers for the lab tests and the demo (sourced): lab access, assertions, waiting, incident queries.
# shellcheck shell=bash

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$LAB_SRC/lab

lab() { "$LAB" "$@"; }

# SMB_SERVER, CLIENT1_IP, SHARE_PATH, SW_CONF, SMB_CONF ... of the running lab.
eval "$("$LAB" env)"
# Scripts started by `lab attack` take the user from the environment: alice unless a test says otherwise.
unset SMB_USER SMB_PASS

# Scratch directory for a test's outputs: run-tests gives one and keeps it for its report.
if [ -n "${SW_TEST_TMP:-}" ]; then
	T=$SW_TEST_TMP
	mkdir -p "$T"
else
	T=$(mktemp -d /tmp/swlab-test.XXXXXX)
	trap 'rm -rf "$T"' EXIT
fi

note() { printf '# %s\n' "$*"; }

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }

# RFC 3339 (as in incident JSON) to ms since the epoch.
rfc3339_ms() { date -u -d "$1" +%s%3N; }

assert_eq() {	# EXPECTED ACTUAL WHAT
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

assert_ne() {	# UNEXPECTED ACTUAL WHAT
	[ "$1" != "$2" ] || fail "${3:-value}: must not be '$1'"
}

assert_lt() {	# A B WHAT: integers, A < B
	[ "$1" -lt "$2" ] || fail "${3:-value}: expected $1 < $2"
}

assert_match() {	# ERE TEXT WHAT
	printf '%s\n' "$2" | grep -Eq -- "$1" || fail "${3:-text} does not match /$1/: $2"
}

# JSON FILTER WHAT: the jq filter must yield true; the JSON is shown when it does not.
assert_json() {
	local json=$1 filter=$2 what=${3:-$2}
	if ! printf '%s' "$json" | jq -e "$filter" >/dev/null 2>&1; then
		printf '%s\n' "$json" | jq . >&2 2>/dev/null || printf '%s\n' "$json" >&2
		fail "$what (jq: $filter)"
	fi
}

# wait_for CMD TIMEOUT: evaluates CMD every 0.2 s until it succeeds; returns 1 after TIMEOUT seconds.
wait_for() {
	local cmd=$1 timeout=${2:-10} end
	end=$(( $(now_ms) + timeout * 1000 ))
	while :; do
		if eval "$cmd" >/dev/null 2>&1; then
			return 0
		fi
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# ------------------------------------------------------------------ incidents

incidents_json() { lab sharewarden incidents --json; }

incident_json() { lab sharewarden incident "$1" --json; }

incident_count() { incidents_json | jq 'length'; }

# Id of the first incident whose JSON matches a jq condition (default: any); empty when none.
incident_id() {
	incidents_json | jq -r "[.[] | select(${1:-true})][0].id // empty"
}

# Id of the first incident naming USER; empty when none.
incident_of() {
	incidents_json | jq -r --arg u "$1" '[.[] | select(.actor.user == $u)][0].id // empty'
}

# wait_incident USER TIMEOUT: prints the id of the first incident naming USER once it exists.
wait_incident() {
	wait_for "[ -n \"\$(incident_of $(printf '%q' "$1"))\" ]" "${2:-20}" || return 1
	incident_of "$1"
}

incident_state() { incident_json "$1" | jq -r .state; }

# The action of a kind ("lock_account") in incident JSON, as JSON (null when absent).
action_of() { printf '%s' "$1" | jq -c --arg k "$2" '[.actions[] | select(.kind == $k)][0]'; }

# ------------------------------------------------------------------ accounts and the share

# The tdbsam account flags of a user, e.g. "[DU         ]".
pdb_flags() {
	lab server pdbedit -s "$SMB_CONF" -L -v -u "$1" 2>/dev/null | sed -n 's/^Account Flags: *//p'
}

account_disabled() { pdb_flags "$1" | grep -q 'D'; }

# One small write as USER from client1 (0 = it worked).
write_as() {
	local user=$1 pass
	case $user in
	alice) pass=Alice-Pass-1 ;;
	bob) pass=Bob-Pass-1 ;;
	svc_backup) pass=Svc-Pass-1 ;;
	*) pass=${2:-} ;;
	esac
	SMB_USER=$user SMB_PASS=$pass lab attack workloads/touch.py
}

# Regular files in the share, ransom notes left aside.
share_file_count() {
	find "$SHARE_PATH" -type f ! -name DECRYPT_INSTRUCTIONS.txt | wc -l
}

# The "malformed N" figure of `sharewarden status` (empty when absent).
malformed_count() {
	lab sharewarden status 2>/dev/null | sed -En 's/^[[:space:]]*malformed[:=]?[[:space:]]+([0-9]+).*/\1/p' | head -n 1
}
