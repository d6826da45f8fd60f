#!/usr/bin/python3
"""A developer cloning a repository onto the share and working in it (benign), with the bytes git writes.

A repository is made locally with git (source files, a few images, twenty commits); `git clone` of it gives the
real packfile, index and refs. They are written to REPO_DIR the way git writes them: the pack received as
.git/objects/pack/tmp_pack_XXXXXX and renamed to pack-SHA.pack, its index as tmp_idx_XXXXXX renamed to
pack-SHA.idx, refs and config through NAME.lock renamed into place; then the checkout writes the working tree.
A new commit writes loose objects (zlib streams) through tmp_obj_XXXXXX renamed to their hash, and `git gc` packs
them into a new pack and deletes the loose objects and the old pack. Finally `git status` reads everything back.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
FILES in the repository (default 300); REPO_DIR (default the user's name, then src\\inventory-app).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import subprocess
import sys
import tempfile

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402

ENV = dict(os.environ, GIT_AUTHOR_NAME="Bob", GIT_AUTHOR_EMAIL="bob@example.com", GIT_COMMITTER_NAME="Bob",
	   GIT_COMMITTER_EMAIL="bob@example.com", GIT_CONFIG_NOSYSTEM="1", HOME="/nonexistent")


def git(cwd, *args):
	return subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "gc.auto=0", *args], cwd=cwd, env=ENV,
			      check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout


def source_file(rng, name):
	funcs = "\n\n".join(f"def {rng.choice(corpus.WORDS)}_{i}(items):\n    \"\"\"{corpus.sentence(rng)}\"\"\"\n"
			    f"    return [x for x in items if x != {rng.randint(0, 999)}]\n" for i in range(rng.randint(3, 30)))
	return f"# {name}: {corpus.sentence(rng)}\n\nimport os\nimport sys\n\n\n{funcs}\n".encode()


def make_repo(rng, root, nfiles):
	git(root, "init", "-q")
	paths = []
	for i in range(nfiles):
		sub = rng.choice(("app", "app/models", "app/views", "lib", "tests", "docs", "static/img"))
		os.makedirs(os.path.join(root, sub), exist_ok=True)
		if sub == "static/img":
			name, data = f"{sub}/icon-{i}.png" if i % 2 else f"{sub}/photo-{i}.jpg", corpus.make_jpeg(rng, 320, 240)
		elif sub == "docs":
			name, data = f"{sub}/page-{i}.md", corpus.make_text(rng, f"Page {i}", rng.randint(1000, 8000))
		else:
			name, data = f"{sub}/module_{i}.py", source_file(rng, f"module_{i}.py")
		with open(os.path.join(root, name), "wb") as f:
			f.write(data)
		paths.append(name)
	sources = [p for p in paths if p.endswith(".py")]
	for c in range(20):
		# Each commit changes sources: one of only images and pages would leave git nothing to commit.
		for name in rng.sample(sources, min(5, len(sources))):
			with open(os.path.join(root, name), "ab") as f:
				f.write(source_file(rng, name))
		git(root, "add", "-A")
		git(root, "commit", "-q", "-m", corpus.sentence(rng))


def read(path):
	with open(path, "rb") as f:
		return f.read()


def tmp_name(rng, prefix):
	return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6))


def body(client, ops):
	rng = workload_rng()
	user = os.environ.get("SMB_USER", "bob")
	repo = env_folder("REPO_DIR", f"{user}\\src\\inventory-app")
	with tempfile.TemporaryDirectory(prefix="sw-git-") as tmp:
		origin, clone = os.path.join(tmp, "origin"), os.path.join(tmp, "clone")
		os.mkdir(origin)
		make_repo(rng, origin, int(os.environ.get("FILES", "300")))
		git(tmp, "clone", "-q", "--no-local", origin, clone)
		gitdir = os.path.join(clone, ".git")
		for d in ("objects\\pack", "objects\\info", "refs\\heads", "refs\\tags", "refs\\remotes\\origin", "hooks",
			  "info", "logs\\refs\\heads"):
			ensure_folder(client, ops, join(repo, ".git\\" + d))

		def put_locked(rel, data):
			"""git writes NAME.lock and renames it into place."""
			path = join(repo, ".git\\" + rel)
			ops.do(f"write {path}.lock", lambda: client.put(path + ".lock", data))
			ops.do(f"rename {path}.lock", lambda: client.rename(path + ".lock", path))

		for rel in ("description", "info\\exclude", "HEAD"):
			put_locked(rel, read(os.path.join(gitdir, rel.replace("\\", "/"))))
		put_locked("config", read(os.path.join(gitdir, "config")))
		packdir = os.path.join(gitdir, "objects", "pack")

		def write_pack(files):
			for name in sorted(files, key=lambda n: not n.endswith(".pack")):
				prefix = "tmp_pack_" if name.endswith(".pack") else "tmp_idx_" if name.endswith(".idx") else "tmp_rev_"
				temp = join(repo, ".git\\objects\\pack\\" + tmp_name(rng, prefix))
				data = read(os.path.join(packdir, name))
				ops.do(f"receive {name}", lambda temp=temp, data=data: client.put(temp, data))
				ops.do(f"rename {name}", lambda temp=temp, name=name: client.rename(
					temp, join(repo, ".git\\objects\\pack\\" + name)))

		first = sorted(os.listdir(packdir))
		write_pack(first)
		put_locked("packed-refs", read(os.path.join(gitdir, "packed-refs")))
		put_locked("refs\\heads\\main", read(os.path.join(gitdir, "refs/heads/main")))
		put_locked("refs\\remotes\\origin\\HEAD", read(os.path.join(gitdir, "refs/remotes/origin/HEAD")))
		# The checkout: the working tree, then the index.
		made = set()
		for top, dirs, files in os.walk(clone):
			dirs[:] = [d for d in dirs if d != ".git"]
			rel = os.path.relpath(top, clone)
			folder = repo if rel == "." else join(repo, rel.replace("/", "\\"))
			if folder not in made and rel != ".":
				ensure_folder(client, ops, folder)
				made.add(folder)
			for f in sorted(files):
				data = read(os.path.join(top, f))
				ops.do(f"checkout {f}", lambda folder=folder, f=f, data=data: client.put(join(folder, f), data))
		put_locked("index", read(os.path.join(gitdir, "index")))
		# A commit: loose objects written under temporary names, then renamed to their hash.
		for name in rng.sample(sorted(os.listdir(os.path.join(clone, "app"))), 5):
			p = os.path.join(clone, "app", name)
			if os.path.isfile(p):
				with open(p, "ab") as f:
					f.write(source_file(rng, name))
		before = set()
		for top, _, files in os.walk(os.path.join(gitdir, "objects")):
			before |= {os.path.join(top, f) for f in files}
		git(clone, "add", "-A")
		git(clone, "commit", "-q", "-m", "Fix the totals")
		loose = []
		for top, _, files in os.walk(os.path.join(gitdir, "objects")):
			for f in files:
				p = os.path.join(top, f)
				if p not in before and "pack" not in top:
					loose.append(p)
		for p in loose:
			sub = os.path.basename(os.path.dirname(p))
			folder = join(repo, ".git\\objects\\" + sub)
			ensure_folder(client, ops, folder)
			temp = join(folder, tmp_name(rng, "tmp_obj_"))
			data = read(p)
			ops.do(f"object {sub}", lambda temp=temp, data=data: client.put(temp, data))
			ops.do(f"object {sub} rename", lambda temp=temp, folder=folder, p=p: client.rename(
				temp, join(folder, os.path.basename(p))))
		for f in ("app",):
			for name in os.listdir(os.path.join(clone, f)):
				p = os.path.join(clone, f, name)
				if os.path.isfile(p):
					ops.do(f"save {name}", lambda name=name, p=p: client.put(join(repo, f"{f}\\{name}"), read(p)))
		put_locked("index", read(os.path.join(gitdir, "index")))
		put_locked("refs\\heads\\main", read(os.path.join(gitdir, "refs/heads/main")))
		# git gc: one new pack, the loose objects and the old pack deleted.
		git(clone, "gc", "-q", "--prune=now")
		write_pack([n for n in os.listdir(packdir) if n not in first])
		for p in loose:
			sub = os.path.basename(os.path.dirname(p))
			ops.do(f"prune {sub}", lambda sub=sub, p=p: client.delete(join(repo, f".git\\objects\\{sub}\\{os.path.basename(p)}")))
		for name in first:
			if name not in os.listdir(packdir):
				ops.do(f"delete {name}", lambda name=name: client.delete(join(repo, ".git\\objects\\pack\\" + name)))
		put_locked("packed-refs", read(os.path.join(gitdir, "packed-refs")))
		# git status: every tracked file read back and compared.
		for top, dirs, files in os.walk(clone):
			dirs[:] = [d for d in dirs if d != ".git"]
			rel = os.path.relpath(top, clone)
			folder = repo if rel == "." else join(repo, rel.replace("/", "\\"))
			for f in files:
				back = ops.do(f"status {f}", lambda folder=folder, f=f: client.get(join(folder, f)))
				if back is not None and back != read(os.path.join(top, f)):
					ops.fail(f"{join(folder, f)}: differs from the repository")


if __name__ == "__main__":
	sys.exit(run_workload(body))
