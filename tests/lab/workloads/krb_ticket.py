#!/usr/bin/python3
"""Kerberos for the domain labs. MODE=get: MIT kinit and kvno ask the KDC ($DC_IP) for $SMB_USER's
ticket to cifs/$SMB_SERVER_NAME and keep it in the ccache $KRB5CCNAME (as a Windows PC keeps its
tickets for hours). MODE=use: impacket logs on to $SMB_SERVER with that ticket alone (no password, no
KDC) and writes FILE. Prints "ok ..." or "failed ..." and exits 0 or 1. (impacket 0.10 cannot ask
Samba's KDC itself: its TGS-REQ lacks the body checksum the KDC requires.)

Environment: SMB_SERVER, SMB_SERVER_NAME (the server's host name), SMB_SHARE, SMB_USER, SMB_PASS (get,
given to kinit on its stdin), SMB_DOMAIN (realm), DC_IP, KRB5CCNAME, MODE, FILE (default krb-$SMB_USER.txt).
"""

import os
import subprocess
import sys
import tempfile
import time

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from impacket.smb3structs import SMB2_DIALECT_30  # noqa: E402
from impacket.smbconnection import SMBConnection  # noqa: E402

from smblab import describe  # noqa: E402


def main():
	env = os.environ
	user, realm = env["SMB_USER"], env.get("SMB_DOMAIN", "")
	server, name = env["SMB_SERVER"], env["SMB_SERVER_NAME"]
	ccache = env["KRB5CCNAME"]
	try:
		if env.get("MODE") == "get":
			with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as conf:
				conf.write(f"[libdefaults]\n\tdefault_realm = {realm}\n\tdns_lookup_kdc = false\n"
					   f"\tdns_lookup_realm = false\n\trdns = false\n[realms]\n\t{realm} = {{\n"
					   f"\t\tkdc = {env['DC_IP']}\n\t}}\n")
			kenv = dict(env, KRB5_CONFIG=conf.name, KRB5CCNAME=f"FILE:{ccache}")
			try:
				for argv, stdin in ((["kinit", f"{user}@{realm}"], env.get("SMB_PASS", "") + "\n"),
						    (["kvno", f"cifs/{name}@{realm}"], "")):
					r = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=kenv,
							   timeout=20)
					if r.returncode != 0:
						why = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
						print(f"failed {user}: {argv[0]}: {why[0]}", flush=True)
						return 1
			finally:
				os.unlink(conf.name)
			print(f"ok {user}: ticket for cifs/{name} in {ccache}", flush=True)
			return 0
		conn = SMBConnection(name, server, sess_port=445, timeout=5, preferredDialect=SMB2_DIALECT_30)
		# The cached ticket alone: no password, and the KDC is never asked (useCache).
		conn.kerberosLogin(user, "", realm, kdcHost=None, useCache=True)
		tid = conn.connectTree(env.get("SMB_SHARE", "data"))
		fname = env.get("FILE") or f"krb-{user}.txt"
		fid = conn.createFile(tid, fname)
		conn.writeFile(tid, fid, f"written with a Kerberos ticket at {time.ctime()}\r\n".encode())
		conn.closeFile(tid, fid)
		conn.close()
	except Exception as e:
		print(f"failed {user}: {describe(e)}", flush=True)
		return 1
	print(f"ok {user} {fname}", flush=True)
	return 0


if __name__ == "__main__":
	sys.exit(main())
