#!/usr/bin/python3
"""Kerberos for the domain labs. MODE=get: asks the KDC ($DC_IP) for $SMB_USER's ticket to
cifs/$SMB_SERVER_NAME and keeps it in the ccache $KRB5CCNAME (as a Windows PC keeps its tickets for
hours). MODE=use: logs on to $SMB_SERVER with that ticket alone (no password, no KDC) and writes FILE.
Prints "ok ..." or "failed ..." and exits 0 or 1.

Environment: SMB_SERVER, SMB_SERVER_NAME (the server's host name), SMB_SHARE, SMB_USER, SMB_PASS (get),
SMB_DOMAIN (realm), DC_IP, KRB5CCNAME, MODE, FILE (default krb-$SMB_USER.txt).
"""

import os
import sys
import time

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from impacket.krb5 import constants  # noqa: E402
from impacket.krb5.ccache import CCache  # noqa: E402
from impacket.krb5.kerberosv5 import getKerberosTGS, getKerberosTGT  # noqa: E402
from impacket.krb5.types import Principal  # noqa: E402
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
			client = Principal(user, type=constants.PrincipalNameType.NT_PRINCIPAL.value)
			tgt, cipher, _, session_key = getKerberosTGT(client, env.get("SMB_PASS", ""), realm, "", "",
								      kdcHost=env.get("DC_IP"))
			spn = Principal(f"cifs/{name}", type=constants.PrincipalNameType.NT_SRV_INST.value)
			tgs, cipher, old_key, session_key = getKerberosTGS(spn, realm, env.get("DC_IP"), tgt, cipher,
									    session_key)
			cc = CCache()
			cc.fromTGS(tgs, old_key, session_key)
			cc.saveFile(ccache)
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
