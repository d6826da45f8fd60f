#!/bin/sh
# snmpd pass_persist: one writable ifAdminStatus (ifIndex 7), as a real switch port has, for the SNMPv3 tests.
oid=.1.3.6.1.2.1.2.2.1.7.7
st=1
while read -r cmd; do
	case "$cmd" in
	PING) echo PONG ;;
	get)
		read -r req
		if [ "$req" = "$oid" ]; then printf '%s\ninteger\n%s\n' "$oid" "$st"; else echo NONE; fi ;;
	getnext)
		read -r req
		case "$req" in
		.1.3.6.1.2.1.2.2.1.7|.1.3.6.1.2.1.2.2.1.7.[0-6]) printf '%s\ninteger\n%s\n' "$oid" "$st" ;;
		*) echo NONE ;;
		esac ;;
	set)
		read -r req
		read -r val
		case "$req $val" in
		"$oid integer 1"|"$oid integer 2") st=${val#integer }; echo DONE ;;
		"$oid "*) echo wrong-value ;;
		*) echo not-writable ;;
		esac ;;
	"") ;;
	*) exit 0 ;;
	esac
done
