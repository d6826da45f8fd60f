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

# ------------------------------------------------------------------ waiting on the daemon and the clients

# A counter of `sharewarden status` ("lines 12" -> 12); empty when absent.
status_value() {
	lab sharewarden status 2>/dev/null | awk -v k="$1" '$1 == k { print $2; exit }'
}

# daemon_caught_up [TIMEOUT]: waits until the daemon has journaled every event up to now (all its sources read)
# and its content checks have stopped moving; returns 1 after TIMEOUT seconds (default 20).
daemon_caught_up() {
	local t timeout=${1:-20} a b end
	t=$(now_ms)
	end=$(( t + timeout * 1000 ))
	wait_for "[ \"\$(status_value journal_through)\" -ge $t ]" "$timeout" || return 1
	a=$(status_value content_analyzed)
	while [ "$(now_ms)" -lt "$end" ]; do
		sleep 0.3
		b=$(status_value content_analyzed)
		[ "$a" = "$b" ] && return 0
		a=$b
	done
	return 1
}

# The number of lines in the audit log now: an offset for wait_audit_user.
audit_lines() { if [ -f "$AUDIT_LOG" ]; then wc -l <"$AUDIT_LOG"; else echo 0; fi; }

# wait_audit_user USER [FROM] [TIMEOUT]: waits until the audit log has a line of USER after line FROM (default 0):
# that user's SMB session is up and working. Returns 1 after TIMEOUT seconds (default 15).
wait_audit_user() {
	wait_for "tail -n +$(( ${2:-0} + 1 )) \"\$AUDIT_LOG\" | grep -q '\] *$1|'" "${3:-15}"
}

# ------------------------------------------------------------------ incidents

incidents_json() { lab sharewarden incidents --json; }

incident_json() { lab sharewarden incident "$1" --json; }

# The newest incident's id; 0 when there is none.
last_id() { incidents_json | jq '[.[].id] | max // 0'; }

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
# Whether the incident JSON's first action of KIND has its result (journaled, and no longer "running").
action_done() { printf '%s' "$1" | jq -e --arg k "$2" '[.actions[] | select(.kind == $k)][0] | . != null and .result != "running"' >/dev/null; }

# ------------------------------------------------------------------ accounts and the share

# The tdbsam account flags of a user, e.g. "[DU         ]".
pdb_flags() {
	lab server pdbedit -s "$SMB_CONF" -L -v -u "$1" 2>/dev/null | sed -n 's/^Account Flags: *//p'
}

account_disabled() { pdb_flags "$1" | grep -q 'D'; }

# The lab password of a lab user (empty for others).
lab_pass() {
	case $1 in
	alice) echo Alice-Pass-1 ;;
	bob) echo Bob-Pass-1 ;;
	svc_backup) echo Svc-Pass-1 ;;
	*) echo "" ;;
	esac
}

# One small write as USER from client1 (0 = it worked).
write_as() {
	local user=$1 pass
	pass=$(lab_pass "$user")
	SMB_USER=$user SMB_PASS=${pass:-${2:-}} lab attack workloads/touch.py
}

# ------------------------------------------------------------------ the domain labs (t_domain, t_domain_member)

# USER's userAccountControl in the DC's database, read beside the DC.
uac() {
	lab dc ldbsearch -H "$DC_SAM" "(sAMAccountName=$1)" userAccountControl | sed -n 's/^userAccountControl: //p'
}

# One small write as USER from client2 (bob's PC: client1's port is shut while an incident holds).
logon_from_client2() {
	CLIENT2_USER=$1 CLIENT2_PASS=$(lab_pass "$1") lab client2 workloads/touch.py
}

wait_action() {	# ID KIND [SECONDS]: the incident has journaled that action's result
	wait_for "action_done \"\$(incident_json $1)\" $2" "${3:-20}"
}

attack_as() {	# USER OUT: the classic attack as USER from client1
	SMB_USER=$1 SMB_PASS=$(lab_pass "$1") ATTACK_MAX_FILES=80 lab attack attacks/classic.py \
	    >"$2" 2>"$2.err" || fail "the attack as $1 failed: $(tail -n 5 "$2.err")"
}

# svc_backup (a Backup Operator: protected by its group, not by name) attacks: the incident is reported, the
# lock skipped naming the group, his userAccountControl unchanged; then released.
protected_member_not_locked() {
	local svc0 id2 inc lock
	svc0=$(uac svc_backup)
	attack_as svc_backup "$T/attack2.out"
	id2=$(wait_incident 'LAB\svc_backup' 20) || fail "no incident naming LAB\\svc_backup within 20 s"
	wait_action "$id2" notify_syslog || fail "incident $id2 did not finish its slow part within 20 s"
	inc=$(incident_json "$id2")
	lock=$(action_of "$inc" lock_account)
	assert_json "$lock" '.result == "skipped"' "svc_backup's lock_account is skipped ($(printf '%s' "$lock" | jq -r .detail))"
	assert_json "$lock" '.detail | test("member of Backup Operators")' "the skip names the protected group"
	assert_eq "$svc0" "$(uac svc_backup)" "svc_backup's userAccountControl"
	# Every isolating action is skipped, the slow ones too (they run on another thread).
	for kind in deny_writer kill_session block_ip port_down; do
		assert_json "$(action_of "$inc" $kind)" '.result == "skipped"' "svc_backup's $kind is skipped"
	done
	note "svc_backup: $(printf '%s' "$lock" | jq -r .detail)"
	lab sharewarden release "$id2" >"$T/release2.out" 2>&1 || fail "release $id2 failed: $(cat "$T/release2.out")"
	PROTECTED_INCIDENT=$id2
}

# smb_as USER COMMANDS: smbclient commands ("put a b; allinfo b") as USER from client2, over SMB3; smbclient's
# exit status (it stops at the first command that fails).
smb_as() {
	lab client2 /usr/bin/smbclient "//$SMB_SERVER/$SMB_SHARE" -U "$1%$(lab_pass "$1")" -m SMB3 -c "$2"
}

# Regular files in the share, ransom notes left aside.
share_file_count() {
	find "$SHARE_PATH" -type f ! -name DECRYPT_INSTRUCTIONS.txt | wc -l
}

# The "malformed N" figure of `sharewarden status` (empty when absent).
malformed_count() {
	lab sharewarden status 2>/dev/null | sed -En 's/^[[:space:]]*malformed[:=]?[[:space:]]+([0-9]+).*/\1/p' | head -n 1
}

# ------------------------------------------------------------------ configuration

# sw_conf_set KEY VALUE: sets KEY in [global] of $SW_CONF (replacing it when present; an empty VALUE
# writes "KEY =", which turns a source off). The daemon reads it at its next start: lab daemon restart.
sw_conf_set() {
	local key=$1 value=$2 tmp
	tmp=$(mktemp "$SW_CONF.XXXXXX")
	awk -v key="$key" -v value="$value" '
		function flush() { if (!done) { print "\t" key " =" (value == "" ? "" : " " value); done = 1 } }
		/^[[:space:]]*\[/ {
			if (sec == "global") flush()
			sec = ($0 ~ /^[[:space:]]*\[global\]/) ? "global" : "other"
			print; next
		}
		sec == "global" {
			k = $0; sub(/=.*/, "", k); gsub(/^[[:space:]]+|[[:space:]]+$/, "", k)
			if (tolower(k) == tolower(key)) { flush(); next }
		}
		{ print }
		END { if (sec == "global") flush() }
	' "$SW_CONF" >"$tmp" && chmod --reference="$SW_CONF" "$tmp" && mv "$tmp" "$SW_CONF"
}

# ------------------------------------------------------------------ attack families

# "stopped REASON files_encrypted N" of an attack's output, on one line.
attack_summary() {
	grep -E '^(stopped|files_encrypted)' "$1" | sed -E 's/^stopped [0-9]+/stopped/' | tr '\n' ' '
}

# The kinds of an incident's signals (JSON), each once, comma separated.
signal_kinds() { printf '%s' "$1" | jq -r '[.signals[]?.kind] | unique | join(", ")'; }

# Last "files_encrypted N" of an attack's output (empty when missing).
files_encrypted() { sed -n 's/^files_encrypted //p' "$1" | tail -n 1; }

# ms of an attack's first malicious write: its start when it drops ransom notes before touching a file
# (classic, notes_first), else the first write of its first encrypted file; empty when there is none.
first_write_ms() {	# ATTACK_OUT FAMILY
	case $2 in
	classic | notes_first) awk '$1 == "start" { print $2; exit }' "$1" ;;
	*) awk '$1 == "encrypted" { print $2; exit }' "$1" ;;
	esac
}

# ms from FIRST_MS to an incident's first action of a kind; empty when either is missing.
ms_to_action() {	# FIRST_MS INCIDENT_JSON KIND
	local at
	[ -n "$1" ] || return 0
	at=$(printf '%s' "$2" | jq -r --arg k "$3" '[.actions[]? | select(.kind == $k)][0].at // empty')
	[ -n "$at" ] || return 0
	echo $(( $(rfc3339_ms "$at") - $1 ))
}

# attack_test FAMILY MAX_FILES [OFFICE_SECONDS]: alice runs attacks/FAMILY.py from client1 while bob saves
# documents from client2 (office.py, OFFICE_SECONDS long, default 8). Asserts: exactly one incident, naming
# alice with client1's IP and MAC, contained; the attack was stopped after at most MAX_FILES files; alice's
# account is disabled; none of bob's actions failed, and still one incident afterwards.
attack_test() {
	local family=$1 max=$2 secs=${3:-8} total office id inc n rc first deny kill from
	total=$(share_file_count)
	from=$(audit_lines)
	DURATION=$secs lab client2 workloads/office.py >"$T/office.out" 2>"$T/office.err" &
	office=$!
	wait_audit_user bob "$from" || fail "bob's office workload shows no activity in the audit log"

	note "alice's $family attack from client1 ($CLIENT1_IP), $total files in the share"
	lab attack "attacks/$family.py" >"$T/attack.out" 2>"$T/attack.err" ||
	    fail "the attack script failed: $(tail -n 5 "$T/attack.err")"
	note "attack: $(attack_summary "$T/attack.out")"

	wait_for '[ "$(incident_count)" -ge 1 ]' 20 || fail "no incident within 20 s of the end of the $family attack"
	assert_eq 1 "$(incident_count)" "number of incidents"
	id=$(incident_id true)
	wait_for '[ "$(incident_state "$id")" = contained ]' 10 || true
	inc=$(incident_json "$id")
	note "incident $id: $(signal_kinds "$inc")"
	first=$(first_write_ms "$T/attack.out" "$family")
	deny=$(ms_to_action "$first" "$inc" deny_writer)
	kill=$(ms_to_action "$first" "$inc" kill_session)
	note "first malicious write to deny_writer: ${deny:-none} ms, to kill_session: ${kill:-none} ms"
	assert_json "$inc" '.actor.user == "alice"' "actor.user is alice"
	assert_json "$inc" ".actor.ip == \"$CLIENT1_IP\"" "actor.ip is client1's"
	assert_json "$inc" "(.actor.mac // \"\" | ascii_downcase) == \"$CLIENT1_MAC\"" "actor.mac is client1's"
	assert_json "$inc" '.state == "contained"' "state is contained"

	grep -q '^stopped ' "$T/attack.out" || fail "the $family attack was not stopped: $(tail -n 3 "$T/attack.out")"
	n=$(files_encrypted "$T/attack.out")
	[ -n "$n" ] || fail "the attack printed no files_encrypted line"
	note "files encrypted before the attack stopped: $n of $total (at most $max allowed)"
	[ "$n" -le "$max" ] || fail "the $family attack encrypted $n files: more than $max"
	assert_match 'D' "$(pdb_flags alice)" "alice's account flags"

	rc=0
	wait "$office" || rc=$?
	note "bob: $(tail -n 1 "$T/office.out")"
	[ "$rc" = 0 ] || fail "bob's office workload failed (exit $rc): $(head -n 5 "$T/office.err")"
	assert_match '^ops_ok [0-9]+ ops_failed 0$' "$(tail -n 1 "$T/office.out")" "bob's workload"
	assert_eq 1 "$(incident_count)" "number of incidents after bob's workload"
}

# ------------------------------------------------------------------ benign workloads

# What ordinary users do on the share, in the order the benign suite runs it: "USER WORKLOAD [VAR=VALUE...]".
# bob works from client2 (every workload), alice from client1 (her own folders).
BENIGN_SUITE=(
	"bob office_excel.py"
	"bob zip_docs.py"
	"bob copy_media.py"
	"bob rename_photos.py"
	"alice build_churn.py"
	"bob backup.py"
	"bob office.py DURATION=20"
	"alice office_excel.py SAVES=20"
	"alice zip_docs.py ARCHIVE_DIR=alice/Archives DOCS=40"
	"alice backup.py BACKUP_DIR=alice/Backups"
)

# More ordinary work, longer (t_benign_more): files encrypted by design, browser downloads and a mailbox, a
# photo editor saving in place, a sync tool, Office autosave, a git clone, databases and a VM disk written in
# place, an archive of thousands of files unzipped and the folder deleted, documents converted to PDF and
# renamed in bulk.
BENIGN_SUITE_MORE=(
	"bob encrypted_saves.py"
	"bob downloads.py"
	"alice photo_edit.py"
	"bob sync_mirror.py"
	"bob office_autosave.py"
	"alice git_clone.py"
	"alice db_vm.py"
	"bob unzip_tree.py"
	"bob docx_to_pdf.py"
	"bob mass_rename.py"
	"bob delete_tree.py"
	"alice encrypted_saves.py SECRET_DIR=alice/Private DOCS=20 KDBX_SAVES=6"
	"alice photo_edit.py EDIT_DIR=alice/Photos PHOTOS=30 PASSES=1"
)

# run_benign_suite DIR [SUITE]: runs the array named SUITE (default BENIGN_SUITE): each user's workloads in turn,
# alice (client1) and bob (client2) at the same time, as two people work on one server. Each run's output goes
# to DIR/N-USER-NAME.out and .err, its start and end (ms) to DIR/N-USER-NAME.span.
# Prints one line per run, in the suite's order; returns 1 when any workload failed.
run_benign_suite() {
	local dir=$1 entry user name vars i=0 bad=0 u
	local -n suite=${2:-BENIGN_SUITE}
	local -A users=()
	mkdir -p "$dir"
	for entry in "${suite[@]}"; do
		read -r user name vars <<<"$entry"
		users[$user]=1
	done
	for u in "${!users[@]}"; do
		(
			i=0
			for entry in "${suite[@]}"; do
				read -r user name vars <<<"$entry"
				i=$((i + 1))
				[ "$user" = "$u" ] || continue
				benign_one "$dir/$i-$user-${name%.py}" "$user" "$name" "$vars"
			done
		) &
	done
	wait
	for entry in "${suite[@]}"; do
		read -r user name vars <<<"$entry"
		i=$((i + 1))
		cat "$dir/$i-$user-${name%.py}.line"
		[ "$(cat "$dir/$i-$user-${name%.py}.rc")" = 0 ] || bad=1
	done
	return "$bad"
}

# benign_one BASE USER NAME VARS: one workload of a benign suite; BASE.line gets its tally, BASE.rc its exit.
benign_one() {
	local base=$1 user=$2 name=$3 vars=$4 rc=0 t0 t1
	t0=$(now_ms)
	# shellcheck disable=SC2086
	case $user in
	alice) env $vars "$LAB" attack "workloads/$name" >"$base.out" 2>"$base.err" || rc=$? ;;
	*) env CLIENT2_USER="$user" $vars "$LAB" client2 "workloads/$name" >"$base.out" 2>"$base.err" || rc=$? ;;
	esac
	t1=$(now_ms)
	echo "$t0 $t1" >"$base.span"
	{
		printf '%s %s: %s (exit %s, %s ms)\n' "$user" "$name" "$(tail -n 1 "$base.out")" "$rc" "$((t1 - t0))"
		[ "$rc" = 0 ] || head -n 5 "$base.err" | sed 's/^/    /'
	} >"$base.line"
	echo "$rc" >"$base.rc"
}

# benign_test SUITE: runs the benign suite named SUITE (an array above) and asserts what a user cares about: no
# incident at all, every workload's "ops_failed 0" (nobody saw an error or was refused), alice and bob never
# disabled, and the daemon alive at the end. Prints each workload's tally and time.
benign_test() {
	local suite=$1 t0 suite_rc=0 line incidents id flags user f
	lab sharewarden status >/dev/null 2>&1 || fail "the daemon does not answer status before the test"
	t0=$(now_ms)
	run_benign_suite "$T/benign" "$suite" >"$T/benign.txt" 2>&1 || suite_rc=$?
	while read -r line; do note "$line"; done < <(grep -v '^    ' "$T/benign.txt")
	note "benign suite: $(( ($(now_ms) - t0) / 1000 )) s"
	# Let the daemon finish what it has read (content checks run after the writes).
	daemon_caught_up 30 || fail "the daemon did not catch up with the benign suite within 30 s"
	# A daemon that died on the way would raise no incident either.
	lab sharewarden status >/dev/null 2>&1 || fail "the daemon no longer answers status after the benign suite"
	note "signals below the incident score: $(grep -o 'signal [a-z_]*' "$SW_LOG" 2>/dev/null | sort | uniq -c |
	    awk '{printf "%s%s %s", sep, $3, $1; sep=", "}')"
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
		for f in "$T"/benign/*.rc; do
			[ "$(cat "$f")" = 0 ] || { echo "---- ${f%.rc}.err:"; tail -n 20 "${f%.rc}.err"; } >&2
		done
		fail "a benign workload failed (see above): a user was refused or saw an error"
	fi
	for f in "$T"/benign/*.out; do
		assert_match '^ops_ok [0-9]+ ops_failed 0$' "$(tail -n 1 "$f")" "$(basename "$f" .out)"
	done
}

# ------------------------------------------------------------------ isolation: the switches, the firewall, mail

# "up" or "down": the admin state of a port of the lab switch, as `ip link` in swlab-sw shows it.
port_admin() {
	if ip -n swlab-sw -o link show "$1" | grep -Eq '<([^>]*,)?UP[,>]'; then echo up; else echo down; fi
}

# The ifAdminStatus values of every port of the simulated vendor switch, space separated ("1 1 1 ...").
vendor_admin_states() {
	lab snmp snmpwalk -v2c -c public -t 1 -r 1 -Oqv "$SNMPSIM_ADDR" .1.3.6.1.2.1.2.2.1.7 | tr '\n' ' ' | sed 's/ $//'
}

# True when IP is in the nftables set the daemon blocks (table inet sharewarden, set blocked4).
ip_blocked() {
	local set
	# Not piped into grep -q: nft would get SIGPIPE once grep has its match, and pipefail would call that a miss.
	set=$(ip netns exec swlab-srv nft list set inet sharewarden blocked4 2>/dev/null) || return 1
	grep -qw -- "$1" <<<"$set"
}

# True when client1 reaches the server: a ping, and a TCP connection to the SMB port.
client1_pings() { ip netns exec swlab-c1 ping -c 1 -W 1 -q "$SMB_SERVER" >/dev/null 2>&1; }
client1_smb_opens() {
	ip netns exec swlab-c1 timeout 2 bash -c "exec 3<>/dev/tcp/$SMB_SERVER/445" 2>/dev/null
}

# The mail the lab's SMTP server stored whose subject holds TEXT (the first one); empty when none.
mail_with_subject() {
	local f
	for f in "$MAIL_DIR"/*.eml; do
		[ -f "$f" ] || continue
		if grep -m1 '^Subject:' "$f" | grep -qF -- "$1"; then
			echo "$f"
			return 0
		fi
	done
	return 0
}

# The detail of the notify_mail action of a stage ("contained") of an incident, from its JSON.
mail_action_detail() {
	printf '%s' "$1" | jq -r --arg s "$2" '[.actions[] | select(.kind == "notify_mail" and
	    (.detail | startswith($s + ":")))][0].detail // empty'
}
