#!/usr/bin/python3
"""A storm of local file activity on the server, for the flood test.

  storm.py DIR [--procs N] [--files N] [--dirs N] [--seconds S] [--pidfile FILE]

N processes each create --files small files (64 bytes each) spread over --dirs
folders DIR/pNN/dNNNN, then touch them (touch(1), one pass over all of them at
a time) over and over until S seconds have passed or the storm is stopped
(SIGTERM), and delete them. Every
touch is a kernel file event of its own (a new time on another file each
time, each in another folder than the last): one pass makes 10,000 in a few
tens of milliseconds, faster than a reader that resolves each event to a path
can take them, so the fanotify queue (16,384 events) overflows.

Prints "ready" once every process has made its files, and at the end
"touches N" (file events made by all of them).
"""
import argparse
import os
import signal
import subprocess
import sys
import time

stop = False


def on_term(*_):
	global stop
	stop = True


def worker(d, files, dirs, until, ready_fd):
	subdirs = [os.path.join(d, "d%04d" % k) for k in range(dirs)]
	for sd in subdirs:
		os.makedirs(sd, exist_ok=True)
	# Each name in another folder than the one before: a reader's cache of folder paths does not help it.
	names = [os.path.join(subdirs[i % dirs], "f%05d.dat" % i) for i in range(files)]
	data = b"x" * 64
	for n in names:
		fd = os.open(n, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
		os.write(fd, data)
		os.close(fd)
	os.write(ready_fd, b"r")
	touches = 0
	# touch(1) sets the times of all of them in one pass at C speed, as rsync -t or a restore tool does.
	while not stop and time.monotonic() < until:
		subprocess.call(["/usr/bin/touch", "-c", "--"] + names)
		touches += len(names)
	for n in names:
		os.unlink(n)
	for sd in subdirs:
		os.rmdir(sd)
	os.rmdir(d)
	return touches


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("dir")
	ap.add_argument("--procs", type=int, default=2)
	ap.add_argument("--files", type=int, default=10000)
	ap.add_argument("--dirs", type=int, default=2000)
	ap.add_argument("--seconds", type=float, default=60)
	ap.add_argument("--pidfile")
	args = ap.parse_args()

	until = time.monotonic() + args.seconds
	kids = []
	rfd, wfd = os.pipe()
	readyr, readyw = os.pipe()
	for i in range(args.procs):
		pid = os.fork()
		if pid == 0:
			os.close(rfd)
			os.close(readyr)
			signal.signal(signal.SIGTERM, on_term)
			n = worker(os.path.join(args.dir, "p%02d" % i), args.files, args.dirs, until, readyw)
			os.write(wfd, b"%d\n" % n)
			os._exit(0)
		kids.append(pid)
	os.close(wfd)
	os.close(readyw)

	def forward(*_):
		for k in kids:
			try:
				os.kill(k, signal.SIGTERM)
			except ProcessLookupError:
				pass

	signal.signal(signal.SIGTERM, forward)
	if args.pidfile:
		with open(args.pidfile, "w") as f:
			f.write("%d\n" % os.getpid())
	got = 0
	while got < args.procs:
		b = os.read(readyr, 16)
		if not b:
			break
		got += len(b)
	print("ready", flush=True)
	for k in kids:
		while True:
			try:
				os.waitpid(k, 0)
				break
			except ChildProcessError:
				break
			except InterruptedError:
				continue
	with os.fdopen(rfd) as r:
		touches = sum(int(x) for x in r.read().split())
	print("touches %d" % touches, flush=True)
	return 0


if __name__ == "__main__":
	sys.exit(main())
