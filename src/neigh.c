/* Client IP -> MAC from the kernel's neighbour table over rtnetlink (the Linux-only part of attribution). */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "log.h"
#include "session.h"

#define NEIGH_TIMEOUT_MS	1000

/* Entries that hold no usable link-layer address. */
#define NUD_UNUSABLE	(NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP)

struct neigh_query {
	int family;
	unsigned char addr[16];
	size_t addrlen;
	int best;		/* rank of the entry kept, 0 none */
	char mac[18];
};

/* Parses ip (no brackets; a "%zone" suffix is ignored; IPv4-mapped IPv6 is looked up as IPv4). */
static int
neigh_query_init(struct neigh_query *q, const char *ip)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	char *pct;

	memset(q, 0, sizeof *q);
	if (strlen(ip) >= sizeof tmp)
		return -1;
	strcpy(tmp, ip);
	if ((pct = strchr(tmp, '%')) != NULL)
		*pct = '\0';
	if (inet_pton(AF_INET, tmp, q->addr) == 1) {
		q->family = AF_INET;
		q->addrlen = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, q->addr) != 1)
		return -1;
	if (memcmp(q->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(q->addr, q->addr + 12, 4);
		q->family = AF_INET;
		q->addrlen = 4;
		return 0;
	}
	q->family = AF_INET6;
	q->addrlen = 16;
	return 0;
}

/* Confirmed entries beat ones the kernel is still unsure about. */
static int
neigh_rank(unsigned state)
{
	if (state & (NUD_PERMANENT | NUD_REACHABLE))
		return 2;
	return 1;
}

static void
neigh_consider(struct neigh_query *q, const struct nlmsghdr *nh)
{
	const struct ndmsg *nd = NLMSG_DATA(nh);
	const struct rtattr *rta;
	const unsigned char *dst = NULL, *ll = NULL;
	size_t dstlen = 0, lllen = 0;
	int len, rank;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof *nd))
		return;
	if (nd->ndm_family != q->family || (nd->ndm_state & NUD_UNUSABLE) ||
	    nd->ndm_state == 0)
		return;
	len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof *nd);
	for (rta = (const struct rtattr *)((const char *)nd + NLMSG_ALIGN(sizeof *nd));
	    RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == NDA_DST) {
			dst = RTA_DATA(rta);
			dstlen = RTA_PAYLOAD(rta);
		} else if (rta->rta_type == NDA_LLADDR) {
			ll = RTA_DATA(rta);
			lllen = RTA_PAYLOAD(rta);
		}
	}
	if (dst == NULL || dstlen != q->addrlen || memcmp(dst, q->addr, dstlen) != 0)
		return;
	if (ll == NULL || lllen != 6)
		return;
	rank = neigh_rank(nd->ndm_state);
	if (rank <= q->best)
		return;
	q->best = rank;
	snprintf(q->mac, sizeof q->mac, "%02x:%02x:%02x:%02x:%02x:%02x",
	    ll[0], ll[1], ll[2], ll[3], ll[4], ll[5]);
}

int
neigh_lookup_mac(const char *ip, char mac[18])
{
	struct {
		struct nlmsghdr nh;
		struct ndmsg nd;
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { NEIGH_TIMEOUT_MS / 1000, (NEIGH_TIMEOUT_MS % 1000) * 1000 };
	struct neigh_query q;
	char buf[32768] __attribute__((aligned(4)));
	unsigned seq = (unsigned)getpid() ^ 0x5377u;
	int fd, done = 0, rc = -1;

	if (neigh_query_init(&q, ip) == -1)
		return -1;
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) == -1) {
		log_warn("netlink socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.nd);
	req.nh.nlmsg_type = RTM_GETNEIGH;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = seq;
	req.nd.ndm_family = AF_UNSPEC;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) == -1) {
		log_warn("netlink RTM_GETNEIGH");
		goto out;
	}
	while (!done) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof from;
		ssize_t n;
		size_t off;

		n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("netlink neighbour dump");
			goto out;
		}
		if (n == 0 || from.nl_pid != 0)
			continue;
		for (off = 0; off + sizeof(struct nlmsghdr) <= (size_t)n;) {
			struct nlmsghdr *nh = (struct nlmsghdr *)(buf + off);

			if (nh->nlmsg_len < sizeof *nh || nh->nlmsg_len > (size_t)n - off)
				break;
			off += NLMSG_ALIGN(nh->nlmsg_len);
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof *e))
					errno = -e->error;
				log_warn("netlink neighbour dump");
				goto out;
			}
			if (nh->nlmsg_type == RTM_NEWNEIGH)
				neigh_consider(&q, nh);
		}
	}
	if (q.best) {
		memcpy(mac, q.mac, sizeof q.mac);
		rc = 0;
	} else
		rc = 1;
out:
	close(fd);
	return rc;
}
