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
 * Remembers what an audit line says of pid (user, client IP, host): kernel
 * events of that pid are attributed at once, without smbstatus. A pid reused
 * by another process is noticed by its start time. Returns 1 when this is
 * news (a new pid, or another user or IP for it), else 0.
 */
int session_learn(struct session_cache *sc, int pid, const char *user, size_t ulen, const char *ip, size_t iplen,
    const char *host, size_t hlen);
/*
 * Looks pid up among the learned pids and smbstatus' last answer; never
 * waits: on a miss it asks for a background refresh (see session_fd).
 * Returns 0 found, 1 unknown now, -1 unknown and smbstatus is failing.
 */
int session_lookup_pid(struct session_cache *sc, int pid, struct smb_session *out);
/*
 * The background refresh for the event loop: session_fd is the fd to poll
 * (-1 when none runs); session_poll reads it and returns 1 when a new answer
 * replaced the cache; session_tick starts a wanted refresh and kills one
 * that hangs (after 5 s), so a hung smbstatus never stalls the caller.
 */
int session_fd(const struct session_cache *sc);
int session_poll(struct session_cache *sc);
void session_tick(struct session_cache *sc);
/*
 * The pids of user from ip (ip NULL = any) already known (learned from audit
 * lines or from smbstatus' last answer), without running smbstatus.
 */
int session_pids_known(struct session_cache *sc, const char *user, const char *ip, int *pids, int max);
/*
 * Runs smbstatus now (bounded by [global] smbstatus timeout; no cache, safe
 * in any thread) and returns the pids of every session of user from ip (ip
 * NULL = any). -2 when smbstatus did not answer in time, -1 when it failed;
 * err then says which, with the timeout.
 */
int session_pids_now(const struct config *cfg, const char *user, const char *ip, int *pids, int max, char *err,
    size_t errlen);

/*
 * MAC of ip from the kernel's neighbour table (netlink RTM_GETNEIGH dump,
 * IPv4 and IPv6; incomplete and failed entries are skipped). Writes
 * "02:00:00:00:01:01". Returns 0 found, 1 not in the table, -1 error.
 */
int neigh_lookup_mac(const char *ip, char mac[18]);

#endif
