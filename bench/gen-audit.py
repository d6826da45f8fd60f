#!/usr/bin/python3
"""Writes a realistic vfs_full_audit log for the engine benchmark: mostly read noise, office work by many
users, and one classic ransomware attack in the middle. Deterministic: the same seed gives the same file."""
import datetime
import random
import sys

n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
out = open(sys.argv[1], 'w')
rnd = random.Random(42)
root = '/srv/share'
t = datetime.datetime(2026, 11, 27, 8, 0, 0)
users = [(f'user{i:03d}', f'10.1.{i // 250}.{i % 250 + 1}', f'PC{i:04d}', 3000 + i) for i in range(200)]
attacker = ('mallory', '10.1.9.9', 'PC9999', 9999)
folders = ['Finance/2025', 'HR/staff', 'Projects/Alpha/specs', 'Projects/Beta', 'Photos/2024', 'Shared']
exts = ['docx', 'xlsx', 'pdf', 'jpg', 'txt', 'pptx']
attack_at = int(n * 0.6)
attack_files = 200
written = 0

def line(u, op, res, *args):
    global written, t
    t += datetime.timedelta(microseconds=rnd.randint(50, 400))
    ts = t.strftime('%Y/%m/%d %H:%M:%S.%f')
    out.write(f'[{ts},  1, pid={u[3]}]   {u[0]}|{u[1]}|{u[2]}|data|{u[3]}|{op}|{res}|' + '|'.join(args) + '\n')
    written += 1

def rfile():
    return f'{root}/{rnd.choice(folders)}/file{rnd.randint(0, 5000)}.{rnd.choice(exts)}'

while written < n:
    if attack_at <= written < attack_at + 10 and attack_files:
        for d in folders:
            line(attacker, 'create_file', 'ok', '0x12019f', 'file', 'overwrite_if', f'{root}/{d}/DECRYPT_INSTRUCTIONS.txt')
            line(attacker, 'pwrite_send', 'ok', f'{root}/{d}/DECRYPT_INSTRUCTIONS.txt')
            for _ in range(attack_files // len(folders)):
                p = rfile()
                line(attacker, 'create_file', 'ok', '0x12019f', 'file', 'overwrite_if', p)
                line(attacker, 'pwrite_send', 'ok', p)
                line(attacker, 'pwrite_recv', 'ok', p)
                line(attacker, 'renameat', 'ok', p, p + '.encrypted')
        attack_files = 0
        continue
    u = rnd.choice(users)
    r = rnd.random()
    if r < 0.50:
        line(u, 'openat', 'ok', 'r', root)
    elif r < 0.65:
        line(u, 'openat', 'ok', 'r', rfile())
    elif r < 0.75:
        line(u, 'create_file', 'ok', '0x120089', 'file', 'open', rfile())
    elif r < 0.85:
        p = rfile()
        line(u, 'pwrite_send', 'ok', p)
        line(u, 'pwrite_recv', 'ok', p)
    elif r < 0.90:
        p = rfile()
        d = p.rsplit('/', 1)[0]
        line(u, 'renameat', 'ok', p, f'{d}/renamed{rnd.randint(0, 999)}.{p.rsplit(".", 1)[1]}')
    elif r < 0.95:
        line(u, 'unlinkat', 'ok', rfile())
    elif r < 0.98:
        line(u, 'openat', 'fail (No such file or directory)', 'r', rfile())
    else:
        line(u, 'create_file', 'ok', '0x12019f', 'file', 'create', rfile())
out.close()
