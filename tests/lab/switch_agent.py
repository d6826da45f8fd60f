#!/usr/bin/python3
"""snmpd pass_persist agent that makes the lab's Linux bridge an SNMP switch: IF-MIB (ifIndex, ifDescr, ifName,
ifAdminStatus, ifOperStatus) from `ip link`, BRIDGE-MIB (dot1dBasePortIfIndex, dot1dTpFdb*) from `bridge fdb`,
Q-BRIDGE dot1qTpFdbPort (the learned table as FDB 1 plus extra FDB ids read from a file) and LLDP lldpRemSysName.
A SET of ifAdminStatus on a bridge port really runs `ip link set DEV down|up`.

usage: switch_agent.py --root OID [--bridge br0] [--extra-fdb FILE] [--lldp DEV=NAME] [--log FILE]
       switch_agent.py --dump ...    print the whole table once (no pass_persist loop)
The extra FDB file holds "FDBID MAC DEV" lines: MACs a second view of the switch reports on DEV in FDB FDBID
(another VLAN), as a switch that mislearned them would."""
import argparse
import bisect
import json
import os
import subprocess
import sys
import time

IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_X_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
BRIDGE = (1, 3, 6, 1, 2, 1, 17)
LLDP_REM_SYSNAME = (1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 9)
ADMIN = IF_ENTRY + (7,)
CACHE_SECONDS = 0.5


def oid_str(oid):
    return "." + ".".join(str(x) for x in oid)


def oid_parse(s):
    s = s.strip().lstrip(".")
    if not s:
        return ()
    return tuple(int(x) for x in s.split("."))


def run_json(argv):
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return json.loads(out) if out.strip() else []


def mac_sub(mac):
    return tuple(int(x, 16) for x in mac.split(":"))


class Agent:
    def __init__(self, a):
        self.root = oid_parse(a.root) if a.root else ()
        self.bridge = a.bridge
        self.extra_fdb = a.extra_fdb
        self.lldp = dict(x.split("=", 1) for x in a.lldp)
        self.log = open(a.log, "a", buffering=1) if a.log else None
        self.built = 0.0
        self.keys = []
        self.vals = {}
        self.ports = {}         # ifIndex -> device, for bridge ports only

    def note(self, msg):
        if self.log:
            self.log.write("%.3f %s\n" % (time.time(), msg))

    def add(self, oid, typ, val):
        self.vals[oid] = (typ, val)

    def build(self):
        self.vals = {}
        self.ports = {}
        links = run_json(["ip", "-j", "link", "show"])
        bport_of = {}
        for ln in links:
            idx, name = ln["ifindex"], ln["ifname"]
            flags = ln.get("flags", [])
            admin = 1 if "UP" in flags else 2
            oper = 1 if ln.get("operstate") in ("UP", "UNKNOWN") and "LOWER_UP" in flags else 2
            self.add(IF_ENTRY + (1, idx), "integer", idx)
            self.add(IF_ENTRY + (2, idx), "string", name)
            self.add(IF_ENTRY + (7, idx), "integer", admin)
            self.add(IF_ENTRY + (8, idx), "integer", oper)
            self.add(IF_X_ENTRY + (1, idx), "string", name)
            if ln.get("master") == self.bridge:
                try:
                    with open("/sys/class/net/%s/brport/port_no" % name) as f:
                        bport = int(f.read().strip(), 16)
                except OSError:
                    continue
                bport_of[name] = bport
                self.ports[idx] = name
                self.add(BRIDGE + (1, 4, 1, 1, bport), "integer", bport)
                self.add(BRIDGE + (1, 4, 1, 2, bport), "integer", idx)
        self.add(BRIDGE + (1, 2, 0), "integer", len(bport_of))
        fdb = run_json(["bridge", "-j", "fdb", "show", "br", self.bridge])
        for e in fdb:
            dev, mac = e.get("ifname"), e.get("mac", "")
            # The switch's own addresses (permanent) are not learned entries.
            if e.get("master") != self.bridge or e.get("state") == "permanent" or dev not in bport_of:
                continue
            sub = mac_sub(mac)
            status = 5 if e.get("state") == "static" else 3
            self.add(BRIDGE + (4, 3, 1, 1) + sub, "octet", " ".join("%02x" % b for b in sub))
            self.add(BRIDGE + (4, 3, 1, 2) + sub, "integer", bport_of[dev])
            self.add(BRIDGE + (4, 3, 1, 3) + sub, "integer", status)
            self.add(BRIDGE + (7, 1, 2, 2, 1, 2, 1) + sub, "integer", bport_of[dev])
        fdb_ids = {1}
        if self.extra_fdb and os.path.exists(self.extra_fdb):
            with open(self.extra_fdb) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) != 3 or parts[2] not in bport_of:
                        continue
                    fid = int(parts[0])
                    fdb_ids.add(fid)
                    self.add(BRIDGE + (7, 1, 2, 2, 1, 2, fid) + mac_sub(parts[1]), "integer", bport_of[parts[2]])
        # dot1qVlanFdbId.<timeMark 0>.<vlan>: here each VLAN is its own FDB, with the VLAN's number.
        for fid in fdb_ids:
            self.add(BRIDGE + (7, 1, 4, 2, 1, 3, 0, fid), "gauge", fid)
        for dev, sysname in self.lldp.items():
            if dev in bport_of:
                self.add(LLDP_REM_SYSNAME + (0, bport_of[dev], 1), "string", sysname)
        n = len(self.root)
        self.keys = sorted(k for k in self.vals if k[:n] == self.root)
        self.built = time.monotonic()

    def fresh(self):
        if time.monotonic() - self.built > CACHE_SECONDS:
            self.build()

    def reply(self, oid):
        typ, val = self.vals[oid]
        sys.stdout.write("%s\n%s\n%s\n" % (oid_str(oid), typ, val))

    def get(self, oid):
        self.fresh()
        if oid in self.vals and oid[:len(self.root)] == self.root:
            self.reply(oid)
        else:
            sys.stdout.write("NONE\n")

    def getnext(self, oid):
        self.fresh()
        i = bisect.bisect_right(self.keys, oid)
        if i < len(self.keys):
            self.reply(self.keys[i])
        else:
            sys.stdout.write("NONE\n")

    def set(self, oid, value):
        self.build()
        if oid[:-1] != ADMIN or oid[-1] not in self.ports:
            self.note("set %s %s: not writable" % (oid_str(oid), value))
            return "not-writable"
        parts = value.split()
        if len(parts) != 2 or parts[0] != "integer":
            return "wrong-type"
        if parts[1] not in ("1", "2"):
            return "wrong-value"
        dev = self.ports[oid[-1]]
        state = "up" if parts[1] == "1" else "down"
        r = subprocess.run(["ip", "link", "set", dev, state], capture_output=True, text=True)
        self.note("set %s %s: ip link set %s %s: exit %d %s" % (oid_str(oid), value, dev, state, r.returncode,
                                                               r.stderr.strip()))
        self.built = 0.0
        return "DONE" if r.returncode == 0 else "commit-failed"

    def serve(self):
        self.build()
        stdin = sys.stdin
        while True:
            cmd = stdin.readline()
            if not cmd:
                return
            cmd = cmd.strip()
            if cmd == "PING":
                sys.stdout.write("PONG\n")
            elif cmd in ("get", "getnext"):
                oid = oid_parse(stdin.readline())
                (self.get if cmd == "get" else self.getnext)(oid)
            elif cmd == "set":
                oid = oid_parse(stdin.readline())
                value = stdin.readline().strip()
                sys.stdout.write(self.set(oid, value) + "\n")
            elif cmd == "":
                continue
            else:
                return
            sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="")
    ap.add_argument("--bridge", default="br0")
    ap.add_argument("--extra-fdb")
    ap.add_argument("--lldp", action="append", default=[])
    ap.add_argument("--log")
    ap.add_argument("--dump", action="store_true")
    a = ap.parse_args()
    agent = Agent(a)
    if a.dump:
        agent.build()
        for k in agent.keys:
            typ, val = agent.vals[k]
            print("%s %s %s" % (oid_str(k), typ, val))
        return
    try:
        agent.serve()
    except (BrokenPipeError, KeyboardInterrupt):
        pass


if __name__ == "__main__":
    main()
