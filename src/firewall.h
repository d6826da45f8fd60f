/* sharewarden's own nftables table: a set of blocked client addresses dropped on the SMB ports. */
#ifndef SW_FIREWALL_H
#define SW_FIREWALL_H

#include <stddef.h>

struct config;

/*
 * Creates, when missing, table inet <firewall table> with sets blocked4 and
 * blocked6 and an input chain dropping TCP to the SMB ports from them. An
 * existing table keeps its elements (blocks survive a daemon restart); no
 * other table is ever touched. 0 ok, -1 with the reason.
 */
int firewall_ensure(const struct config *cfg, char *err, size_t errlen);

/* Adds / removes ip (v4 or v6 text) to / from the blocked set. 0 ok, -1 with the reason. */
int firewall_block(const struct config *cfg, const char *ip, char *err, size_t errlen);
int firewall_unblock(const struct config *cfg, const char *ip, char *err, size_t errlen);
/* 1 ip is in the set, 0 not, -1 error. */
int firewall_is_blocked(const struct config *cfg, const char *ip, char *err, size_t errlen);

#endif
