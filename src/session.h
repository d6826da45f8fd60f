/* Attribution: smbd pid -> SMB session (smbstatus --json, cached), client IP -> MAC (kernel neighbour table). */
#ifndef SW_SESSION_H
#define SW_SESSION_H

#include <stddef.h>
#include <stdint.h>

struct config;

struct smb_session {
	int pid;			/* per-client smbd */
	char user[128];
	char domain[128];
	char ip[64];			/* "10.0.0.11" or "fe80::1" (no brackets, no port) */
	char host[128];			/* client NetBIOS name / remote machine */
};

/*
 * Pure parser of `smbstatus --json` output (untrusted: user and host names
 * come from clients). Returns 0 and a malloc'd array in *out (free()), or -1
 * when the text is not smbstatus JSON.
 */
int smbstatus_parse_json(const char *json, size_t len, struct smb_session **out, size_t *n);

/* A cache of sessions by smbd pid, refreshed by running smbstatus --json. */
struct session_cache;

struct session_cache *session_cache_new(const struct config *cfg);
void session_cache_free(struct session_cache *sc);
/*
 * Looks pid up; on a miss refreshes from smbstatus, but not more often than
 * every 500 ms. Returns 0 found, 1 unknown, -1 smbstatus failed.
 */
int session_lookup_pid(struct session_cache *sc, int pid, struct smb_session *out);
/* Refreshes now and returns the pids of every session of user from ip (ip NULL = any). */
int session_pids(struct session_cache *sc, const char *user, const char *ip, int *pids, int max);

/*
 * MAC of ip from the kernel's neighbour table (netlink RTM_GETNEIGH dump,
 * IPv4 and IPv6; incomplete and failed entries are skipped). Writes
 * "02:00:00:00:01:01". Returns 0 found, 1 not in the table, -1 error.
 */
int neigh_lookup_mac(const char *ip, char mac[18]);

#endif
