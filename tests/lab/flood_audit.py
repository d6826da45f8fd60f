#!/usr/bin/python3
"""Appends a burst of ordinary full_audit lines to the lab's audit log, for the flood test.

  flood_audit.py LOG LINES --share NAME --root PATH [--actors N] [--seed S]

The lines are what smbd 4.17 writes with the lab's smb.conf ("debug prefix
timestamp", "%u|%I|%m|%S|%d"), stamped with the current time: N distinct
users, each from an address of its own (10.200.0.0/16) and with a pid above
the kernel's pid_max (no such process can exist, so no real session is ever
confused with them), doing office work in runs of a few operations:
listings, reads, saves in place, Office-style saves through a .tmp name, a
few deletes. Nothing a detector should call an attack. Written with O_APPEND in blocks of whole lines, so
smbd's own lines in between stay intact.

Prints "lines N bytes B ms T" at the end.
"""
import argparse
import os
import random
import sys
import time


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("log")
	ap.add_argument("lines", type=int)
	ap.add_argument("--share", required=True)
	ap.add_argument("--root", required=True)
	ap.add_argument("--actors", type=int, default=20000)
	ap.add_argument("--seed", type=int, default=7)
	args = ap.parse_args()

	rnd = random.Random(args.seed)
	with open("/proc/sys/kernel/pid_max") as f:
		pid0 = int(f.read()) + 1
	root = args.root.rstrip("/")
	folders = ["Finance/2025", "HR/staff", "Projects/Alpha/specs", "Projects/Beta", "Shared", "Sales/Q4"]
	exts = ["docx", "xlsx", "pdf", "txt", "pptx", "csv"]
	actors = []
	for i in range(args.actors):
		prefix = "flood%05d|10.200.%d.%d|FL%05d|%s|%d|" % (i, i // 250, i % 250 + 1, i, args.share, pid0 + i)
		actors.append((prefix, pid0 + i))

	fd = os.open(args.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
	t0 = time.time()
	written = 0
	nbytes = 0
	block = []
	run = 0
	while written < args.lines:
		now = time.time()
		stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(now)) + ".%06d" % int((now % 1) * 1e6)
		# One block of lines shares a timestamp (smbd's are microseconds apart anyway). A client works in
		# runs: a listing, a few reads and saves, then another client's turn.
		for _ in range(4000):
			if run == 0:
				prefix, pid = actors[rnd.randrange(len(actors))]
				head = "[%s,  1, pid=%d]   %s" % (stamp, pid, prefix)
				run = rnd.randrange(2, 8)
			run -= 1
			r = rnd.random()
			f = "%s/%s/file%04d.%s" % (root, rnd.choice(folders), rnd.randrange(5000), rnd.choice(exts))
			if r < 0.45:
				block.append(head + "openat|ok|r|" + root)
			elif r < 0.65:
				block.append(head + "openat|ok|r|" + f)
			elif r < 0.75:
				block.append(head + "create_file|ok|0x120089|file|open|" + f)
			elif r < 0.87:
				block.append(head + "create_file|ok|0x12019f|file|overwrite_if|" + f)
				block.append(head + "pwrite_send|ok|" + f)
				block.append(head + "pwrite_recv|ok|" + f)
			elif r < 0.95:
				# An Office save: the new contents under a temporary name, renamed over the document.
				tmp = "%s/%s/~WRL%04d.tmp" % (root, rnd.choice(folders), rnd.randrange(10000))
				block.append(head + "create_file|ok|0x12019f|file|create|" + tmp)
				block.append(head + "pwrite_send|ok|" + tmp)
				block.append(head + "renameat|ok|%s|%s" % (tmp, f))
			elif r < 0.97:
				block.append(head + "unlinkat|ok|" + f)
			else:
				block.append(head + "openat|fail (No such file or directory)|r|" + f)
		if written + len(block) > args.lines:
			block = block[:args.lines - written]
		data = ("\n".join(block) + "\n").encode()
		os.write(fd, data)
		written += len(block)
		nbytes += len(data)
		block = []
	os.close(fd)
	print("lines %d bytes %d ms %d" % (written, nbytes, int((time.time() - t0) * 1000)), flush=True)
	return 0


if __name__ == "__main__":
	sys.exit(main())
