#!/bin/bash
# Windows "Previous Versions": a snapshot taken with `sharewarden snapshot` shows through shadow_copy2, and a file
# changed over SMB afterwards can be read back as it was. `samba-conf` prints the lines the lab's smb.conf uses.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# A file in a subfolder whose name has a space: the path forms of `allinfo` and `get @GMT-...\` must cope.
dir='Shared'
file='Previous versions.txt'
old="quarterly figures, version 1 ($(now_ms))"
new="quarterly figures, version 2 -- changed after the snapshot ($(now_ms))"

printf '%s\r\n' "$old" >"$T/old.txt"
printf '%s\r\n' "$new" >"$T/new.txt"
chmod 0644 "$T/old.txt" "$T/new.txt"
smb_as bob "put \"$T/old.txt\" \"$dir\\$file\"" >"$T/put1.out" 2>&1 ||
    fail "bob could not write $dir\\$file: $(cat "$T/put1.out")"
cmp -s "$T/old.txt" "$SHARE_PATH/$dir/$file" || fail "$dir/$file on the server does not hold what bob wrote"

lab sharewarden snapshot >"$T/snapshot.out" 2>&1 || fail "sharewarden snapshot failed: $(cat "$T/snapshot.out")"
snap=$(grep -oE '@GMT-[0-9]{4}\.[0-9]{2}\.[0-9]{2}-[0-9]{2}\.[0-9]{2}\.[0-9]{2}' "$T/snapshot.out" | head -n 1)
[ -n "$snap" ] || fail "sharewarden snapshot printed no @GMT name: $(cat "$T/snapshot.out")"
note "snapshot $snap ($(tr '\n' ' ' <"$T/snapshot.out"))"
[ -d "$SNAP_DIR/$snap" ] || fail "$SNAP_DIR/$snap does not exist"
assert_eq true "$(btrfs property get -ts "$SNAP_DIR/$snap" ro | sed 's/^ro=//')" "$snap is a read-only subvolume"
cmp -s "$T/old.txt" "$SNAP_DIR/$snap/$dir/$file" || fail "the snapshot does not hold the old $dir/$file"
lab sharewarden snapshots >"$T/snapshots.out" 2>&1 || fail "sharewarden snapshots failed: $(cat "$T/snapshots.out")"
grep -qF -- "$snap" "$T/snapshots.out" || fail "sharewarden snapshots does not list $snap: $(cat "$T/snapshots.out")"

# The change comes in a later second than the snapshot's name (names have whole seconds).
snap_s=$(date -u -d "$(printf '%s' "$snap" | sed -E 's/^@GMT-([0-9]{4})\.([0-9]{2})\.([0-9]{2})-([0-9]{2})\.([0-9]{2})\.([0-9]{2})$/\1-\2-\3 \4:\5:\6/')" +%s)
wait_for "[ \$(date -u +%s) -gt $snap_s ]" 3 || fail "the clock did not pass the snapshot's second"
smb_as bob "put \"$T/new.txt\" \"$dir\\$file\"" >"$T/put2.out" 2>&1 ||
    fail "bob could not change $dir\\$file: $(cat "$T/put2.out")"
cmp -s "$T/new.txt" "$SHARE_PATH/$dir/$file" || fail "$dir/$file on the server does not hold bob's change"

smb_as bob "allinfo \"$dir\\$file\"" >"$T/allinfo.out" 2>&1 || fail "allinfo failed: $(cat "$T/allinfo.out")"
grep -qxF -- "$snap" "$T/allinfo.out" || fail "allinfo does not list the version $snap:
$(cat "$T/allinfo.out")"
note "allinfo lists $(grep -cE '^@GMT-' "$T/allinfo.out") previous version(s) of $dir\\$file, $snap among them"

rm -f "$T/got.txt"
smb_as bob "get \"$snap\\$dir\\$file\" \"$T/got.txt\"" >"$T/get.out" 2>&1 ||
    fail "get $snap\\$dir\\$file failed: $(cat "$T/get.out")"
cmp -s "$T/old.txt" "$T/got.txt" || fail "get $snap\\$dir\\$file did not return the old bytes: '$(cat "$T/got.txt")'"
note "get $snap\\$dir\\$file returned the old bytes ($(sha256sum <"$T/got.txt" | cut -c1-16)...)"
rm -f "$T/got.txt"
smb_as bob "get \"$dir\\$file\" \"$T/got.txt\"" >"$T/get2.out" 2>&1 || fail "get $dir\\$file failed: $(cat "$T/get2.out")"
cmp -s "$T/new.txt" "$T/got.txt" || fail "the live $dir\\$file is not bob's change"

# A previous version is read-only: writing into it is refused and changes neither the snapshot nor the file.
if smb_as bob "put \"$T/new.txt\" \"$snap\\$dir\\$file\"" >"$T/put3.out" 2>&1; then
	fail "a write into $snap was accepted: $(cat "$T/put3.out")"
fi
cmp -s "$T/old.txt" "$SNAP_DIR/$snap/$dir/$file" || fail "the snapshot's $dir/$file changed"

# samba-conf prints what the lab's smb.conf uses for Previous Versions.
lab sharewarden samba-conf >"$T/samba-conf.out" 2>&1 || fail "sharewarden samba-conf failed: $(cat "$T/samba-conf.out")"
conf_value() {	# KEY FILE: the value of the first "KEY = VALUE" line
	sed -En "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$2" | head -n 1 | sed 's/[[:space:]]*$//'
}
vfs=$(conf_value 'vfs objects' "$T/samba-conf.out")
assert_match '(^|[[:space:]])shadow_copy2([[:space:]]|$)' "$vfs" "samba-conf's vfs objects"
assert_match '(^|[[:space:]])full_audit([[:space:]]|$)' "$vfs" "samba-conf's vfs objects"
assert_eq "$SNAP_DIR" "$(conf_value 'shadow:snapdir' "$T/samba-conf.out")" "samba-conf's shadow:snapdir"
assert_eq '@GMT-%Y.%m.%d-%H.%M.%S' "$(conf_value 'shadow:format' "$T/samba-conf.out")" "samba-conf's shadow:format"
assert_eq desc "$(conf_value 'shadow:sort' "$T/samba-conf.out")" "samba-conf's shadow:sort"
assert_eq no "$(conf_value 'shadow:localtime' "$T/samba-conf.out")" "samba-conf's shadow:localtime"
testparm -s "$SMB_CONF" >"$T/testparm.out" 2>/dev/null
for key in shadow:snapdir shadow:format shadow:sort shadow:localtime; do
	assert_eq "$(conf_value "$key" "$T/testparm.out")" "$(conf_value "$key" "$T/samba-conf.out")" \
	    "$key of samba-conf and of the lab's smb.conf"
done
note "samba-conf: vfs objects = $vfs; $(grep -c 'shadow:' "$T/samba-conf.out") shadow: lines, as in the lab's smb.conf"

# The snapshot and the reads through it raised nothing.
assert_eq 0 "$(incident_count)" "number of incidents"
