/* IP -> MAC from DHCP lease files (dnsmasq, ISC dhcpd, Kea memfile), and the lookup chain over every MAC source. */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "leases.h"
#include "log.h"
#include "netport.h"
#include "session.h"
#include "util.h"

#define LEASES_MAX_BYTES	(4 << 20)	/* read of one file; a larger one is read from its end */
#define LEASES_HEAD_MAX		4096		/* a Kea header line kept when only the end is read */
#define LEASES_NEVER		INT64_MAX	/* a lease without an end */
#define ISC_MAX_TOKENS		8
#define KEA_MAX_FIELDS		64

/* An address in binary, IPv4-mapped IPv6 as IPv4. */
struct lease_addr {
	int family;
	unsigned char bin[16];
};

/* The lease that decides: found, its MAC ("" when the entry had none usable), whether it is in force. */
struct lease_pick {
	int found;
	char mac[18];
	int64_t ends;			/* seconds since the epoch; LEASES_NEVER */
	int active;
};

static int
addr_parse(const char *s, size_t n, struct lease_addr *a)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (n == 0 || n >= sizeof tmp || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, tmp, a->bin) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, a->bin) != 1)
		return -1;
	a->family = AF_INET6;
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a->bin)) {
		memmove(a->bin, a->bin + 12, 4);
		memset(a->bin + 4, 0, 12);
		a->family = AF_INET;
	}
	return 0;
}

static int
addr_is(const char *s, size_t n, const struct lease_addr *want)
{
	struct lease_addr a;

	return addr_parse(s, n, &a) == 0 && a.family == want->family &&
	    memcmp(a.bin, want->bin, a.family == AF_INET ? 4 : 16) == 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * An Ethernet MAC: six groups of one or two hex digits joined by ':'. It is
 * printed again from its bytes, so nothing of the file's text passes through.
 * All-zero and broadcast addresses name no client.
 */
static int
mac_parse(const char *s, size_t n, char mac[18])
{
	unsigned char b[6];
	size_t i = 0;

	for (int k = 0; k < 6; k++) {
		int v = 0, digits = 0, h;

		while (i < n && digits < 3 && (h = hexval(s[i])) >= 0) {
			v = v * 16 + h;
			digits++;
			i++;
		}
		if (digits == 0 || digits > 2)
			return -1;
		b[k] = (unsigned char)v;
		if (k < 5) {
			if (i >= n || s[i] != ':')
				return -1;
			i++;
		}
	}
	if (i != n)
		return -1;
	if (memcmp(b, "\0\0\0\0\0\0", 6) == 0 || memcmp(b, "\xff\xff\xff\xff\xff\xff", 6) == 0)
		return -1;
	snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
	return 0;
}

/* A decimal number of at most 18 digits (no sign). */
static int
num_parse(const char *s, size_t n, int64_t *v)
{
	int64_t x = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

/* The next line of [*p, end) without its "\r\n" or "\n"; 0 at the end. *complete: it had its newline. */
static int
next_line(const char **p, const char *end, struct sw_str *line, int *complete)
{
	const char *nl;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	line->p = *p;
	line->n = (size_t)((nl != NULL ? nl : end) - *p);
	*complete = nl != NULL;
	*p = nl != NULL ? nl + 1 : end;
	if (line->n > 0 && line->p[line->n - 1] == '\r')
		line->n--;
	return 1;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Up to max whitespace-separated fields of a line; returns how many. */
static size_t
split_ws(struct sw_str line, struct sw_str *f, size_t max)
{
	size_t i = 0, k = 0;

	while (k < max) {
		while (i < line.n && is_blank(line.p[i]))
			i++;
		if (i >= line.n)
			break;
		f[k].p = line.p + i;
		while (i < line.n && !is_blank(line.p[i]))
			i++;
		f[k].n = (size_t)(line.p + i - f[k].p);
		k++;
	}
	return k;
}

/*
 * dnsmasq: "expiry mac ip hostname clientid" per line (expiry 0 = never);
 * IPv6 leases follow a "duid" line and carry an IAID where the MAC would be.
 * Each address is written once; should it appear twice, the later expiry wins.
 */
static void
parse_dnsmasq(const char *text, size_t n, const struct lease_addr *want, struct lease_pick *pick)
{
	const char *p = text, *end = text + n;
	struct sw_str line, f[3];
	int64_t expiry;
	char mac[18];
	int complete;

	while (next_line(&p, end, &line, &complete)) {
		/* dnsmasq rewrites the file in place: a last line without its newline may be cut anywhere. */
		if (!complete || split_ws(line, f, 3) < 3 || num_parse(f[0].p, f[0].n, &expiry) == -1)
			continue;
		if (!addr_is(f[2].p, f[2].n, want) || mac_parse(f[1].p, f[1].n, mac) == -1)
			continue;
		if (expiry == 0)
			expiry = LEASES_NEVER;
		if (pick->found && expiry < pick->ends)
			continue;
		pick->found = 1;
		pick->active = 1;
		pick->ends = expiry;
		memcpy(pick->mac, mac, sizeof pick->mac);
	}
}

/* Splits a CSV line on ',' (Kea escapes commas inside values as "&#x2c"). */
static size_t
split_csv(struct sw_str line, struct sw_str *f, size_t max)
{
	size_t k = 0;
	const char *p = line.p, *end = line.p + line.n, *c;

	while (k < max) {
		c = memchr(p, ',', (size_t)(end - p));
		f[k].p = p;
		f[k].n = (size_t)((c != NULL ? c : end) - p);
		k++;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return k;
}

/*
 * Kea memfile: a header naming the columns, then one row per change of a
 * lease; the last row of an address is its current state (a deletion is a
 * row with valid_lifetime 0). state 0 is the only one in force.
 */
static void
parse_kea(const char *text, size_t n, const struct lease_addr *want, struct lease_pick *pick)
{
	const char *p = text, *end = text + n;
	struct sw_str line, f[KEA_MAX_FIELDS];
	int c_addr = -1, c_hw = -1, c_exp = -1, c_valid = -1, c_state = -1, need, complete;
	int64_t expire, valid, state;
	size_t nf, nhdr;

	if (!next_line(&p, end, &line, &complete))
		return;
	nhdr = split_csv(line, f, KEA_MAX_FIELDS);
	for (size_t i = 0; i < nhdr; i++) {
		if (str_eq(f[i], "address"))
			c_addr = (int)i;
		else if (str_eq(f[i], "hwaddr"))
			c_hw = (int)i;
		else if (str_eq(f[i], "expire"))
			c_exp = (int)i;
		else if (str_eq(f[i], "valid_lifetime"))
			c_valid = (int)i;
		else if (str_eq(f[i], "state"))
			c_state = (int)i;
	}
	if (c_addr < 0 || c_hw < 0)
		return;
	need = c_addr > c_hw ? c_addr : c_hw;
	need = c_exp > need ? c_exp : need;
	need = c_valid > need ? c_valid : need;
	need = c_state > need ? c_state : need;
	while (next_line(&p, end, &line, &complete)) {
		nf = split_csv(line, f, KEA_MAX_FIELDS);
		/* A row cut short (the file still being written) says nothing. */
		if ((int)nf <= need || (!complete && (nf < nhdr || ((int)nf - 1 == need && f[nf - 1].n == 0))))
			continue;
		if (!addr_is(f[c_addr].p, f[c_addr].n, want))
			continue;
		pick->found = 1;
		pick->active = 1;
		if (mac_parse(f[c_hw].p, f[c_hw].n, pick->mac) == -1) {
			pick->mac[0] = '\0';
			pick->active = 0;
		}
		pick->ends = LEASES_NEVER;
		if (c_valid >= 0 && num_parse(f[c_valid].p, f[c_valid].n, &valid) == 0) {
			if (valid == 0)
				pick->active = 0;
			else if (valid != 0xffffffffLL && c_exp >= 0 &&
			    num_parse(f[c_exp].p, f[c_exp].n, &expire) == 0)
				pick->ends = expire;
		}
		if (c_state >= 0 && f[c_state].n > 0 &&
		    (num_parse(f[c_state].p, f[c_state].n, &state) == -1 || state != 0))
			pick->active = 0;
	}
}

/* ISC dhcpd.leases tokens: words, quoted strings (any bytes, '\' escapes), '{', '}', ';'; '#' comments. */
struct isc_lex {
	const char *p, *end;
};

enum isc_tok { ISC_EOF, ISC_WORD, ISC_STRING, ISC_OPEN, ISC_CLOSE, ISC_SEMI };

static enum isc_tok
isc_next(struct isc_lex *lx, struct sw_str *tok)
{
	const char *p = lx->p, *end = lx->end;

	for (;;) {
		while (p < end && (is_blank(*p) || *p == '\0'))
			p++;
		if (p < end && *p == '#') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		break;
	}
	if (p >= end) {
		lx->p = end;
		return ISC_EOF;
	}
	tok->p = p;
	tok->n = 1;
	switch (*p) {
	case '{':
		lx->p = p + 1;
		return ISC_OPEN;
	case '}':
		lx->p = p + 1;
		return ISC_CLOSE;
	case ';':
		lx->p = p + 1;
		return ISC_SEMI;
	case '"':
		for (p++; p < end && *p != '"'; p++)
			if (*p == '\\' && p + 1 < end)
				p++;
		if (p >= end) {
			/* Unterminated: the rest of the file is inside it. */
			lx->p = end;
			return ISC_EOF;
		}
		tok->n = (size_t)(p + 1 - tok->p);
		lx->p = p + 1;
		return ISC_STRING;
	}
	while (p < end && !is_blank(*p) && *p != '\0' && *p != '{' && *p != '}' && *p != ';' &&
	    *p != '"' && *p != '#')
		p++;
	tok->n = (size_t)(p - tok->p);
	lx->p = p;
	return ISC_WORD;
}

/* Skips a nested block whose '{' was just read. 0 at its '}', -1 at the end of the text. */
static int
isc_skip_block(struct isc_lex *lx)
{
	struct sw_str tok;
	int depth = 1;
	enum isc_tok t;

	while ((t = isc_next(lx, &tok)) != ISC_EOF) {
		if (t == ISC_OPEN)
			depth++;
		else if (t == ISC_CLOSE && --depth == 0)
			return 0;
	}
	return -1;
}

/* "ends never;", "ends epoch N;" (db-time-format local) or "ends W YYYY/MM/DD HH:MM:SS;" in UTC. */
static int
isc_ends(const struct sw_str *t, size_t nt, int64_t *ends)
{
	char buf[40];
	struct tm tm;
	char *rest;

	if (nt >= 2 && str_eq(t[1], "never")) {
		*ends = LEASES_NEVER;
		return 0;
	}
	if (nt >= 3 && str_eq(t[1], "epoch"))
		return num_parse(t[2].p, t[2].n, ends);
	if (nt < 4 || t[2].n + t[3].n + 2 > sizeof buf)
		return -1;
	snprintf(buf, sizeof buf, "%.*s %.*s", (int)t[2].n, t[2].p, (int)t[3].n, t[3].p);
	memset(&tm, 0, sizeof tm);
	if ((rest = strptime(buf, "%Y/%m/%d %H:%M:%S", &tm)) == NULL || *rest != '\0')
		return -1;
	*ends = (int64_t)timegm(&tm);
	return 0;
}

/* The statements of a "lease IP {" block up to its '}'. -1 when the text ends first (a block cut short). */
static int
isc_lease(struct isc_lex *lx, struct lease_pick *blk)
{
	struct sw_str t[ISC_MAX_TOKENS], tok;
	size_t nt = 0;
	enum isc_tok k;

	memset(blk, 0, sizeof *blk);
	blk->ends = LEASES_NEVER;
	blk->active = 1;
	while ((k = isc_next(lx, &tok)) != ISC_EOF) {
		switch (k) {
		case ISC_CLOSE:
			/* Without a binding state (dhcpd 2) a lease is in force until it ends. */
			if (blk->mac[0] == '\0')
				blk->active = 0;
			return 0;
		case ISC_OPEN:
			/* "on expiry { ... }" and the like: not about who holds the lease. */
			if (isc_skip_block(lx) == -1)
				return -1;
			nt = 0;
			break;
		case ISC_SEMI:
			if (nt >= 3 && str_eq(t[0], "hardware") && str_eq(t[1], "ethernet")) {
				if (mac_parse(t[2].p, t[2].n, blk->mac) == -1)
					blk->mac[0] = '\0';
			} else if (nt >= 3 && str_eq(t[0], "binding") && str_eq(t[1], "state")) {
				blk->active = str_eq(t[2], "active");
			} else if (nt >= 2 && str_eq(t[0], "ends")) {
				if (isc_ends(t, nt, &blk->ends) == -1)
					blk->ends = LEASES_NEVER;
			}
			nt = 0;
			break;
		default:
			if (nt < ISC_MAX_TOKENS)
				t[nt++] = tok;
			break;
		}
	}
	return -1;
}

/*
 * ISC dhcpd: "lease IP { ... }" blocks appended as leases change, so the
 * last complete block of an address is its current state.
 */
static void
parse_isc(const char *text, size_t n, const struct lease_addr *want, struct lease_pick *pick)
{
	struct isc_lex lx = { text, text + n };
	struct sw_str t[2], tok;
	struct lease_pick blk;
	size_t nt = 0;
	enum isc_tok k;

	while ((k = isc_next(&lx, &tok)) != ISC_EOF) {
		switch (k) {
		case ISC_OPEN:
			if (nt == 2 && str_eq(t[0], "lease")) {
				if (isc_lease(&lx, &blk) == -1)
					return;
				if (addr_is(t[1].p, t[1].n, want)) {
					*pick = blk;
					pick->found = 1;
				}
			} else if (isc_skip_block(&lx) == -1)
				return;
			nt = 0;
			break;
		case ISC_SEMI:
		case ISC_CLOSE:		/* a stray '}' where a file's end was read without its start */
			nt = 0;
			break;
		default:
			if (nt < 2)
				t[nt] = tok;
			nt++;
			break;
		}
	}
}

enum lease_fmt { FMT_NONE, FMT_DNSMASQ, FMT_ISC, FMT_KEA };

/* From the first line that is not blank or a comment; *from gets where that line starts. */
static enum lease_fmt
leases_format(const char *text, size_t n, size_t *from)
{
	const char *p = text, *end = text + n;
	struct sw_str line;
	int complete;
	size_t i;

	if (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (next_line(&p, end, &line, &complete)) {
		for (i = 0; i < line.n && is_blank(line.p[i]); i++)
			;
		if (i == line.n || line.p[i] == '#')
			continue;
		line.p += i;
		line.n -= i;
		*from = (size_t)(line.p - text);
		if (line.n >= 8 && memcmp(line.p, "address,", 8) == 0)
			return FMT_KEA;
		if ((line.p[0] >= '0' && line.p[0] <= '9') || (line.n >= 5 && memcmp(line.p, "duid ", 5) == 0))
			return FMT_DNSMASQ;
		return FMT_ISC;
	}
	return FMT_NONE;
}

int
leases_parse(const char *text, size_t n, const char *ip, char mac[18])
{
	struct lease_addr want;
	struct lease_pick pick;
	size_t from = 0;

	mac[0] = '\0';
	if (ip == NULL || addr_parse(ip, strlen(ip), &want) == -1)
		return 1;
	memset(&pick, 0, sizeof pick);
	switch (leases_format(text, n, &from)) {
	case FMT_DNSMASQ:
		parse_dnsmasq(text + from, n - from, &want, &pick);
		break;
	case FMT_KEA:
		parse_kea(text + from, n - from, &want, &pick);
		break;
	case FMT_ISC:
		parse_isc(text + from, n - from, &want, &pick);
		break;
	case FMT_NONE:
		break;
	}
	if (!pick.found || !pick.active || pick.mac[0] == '\0')
		return 1;
	/* A lease that ran out may since belong to someone else: never name that one. */
	if (pick.ends != LEASES_NEVER && pick.ends < (int64_t)time(NULL))
		return 1;
	memcpy(mac, pick.mac, 18);
	return 0;
}

/*
 * Reads a lease file, at most LEASES_MAX_BYTES of it: of a larger one its
 * end (leases are appended), after a Kea header line when there is one.
 * Returns a malloc'd buffer, or NULL (logged).
 */
static char *
leases_read(const char *path, size_t *len)
{
	struct stat st;
	char *buf, head[LEASES_HEAD_MAX];
	size_t have = 0, hlen = 0, want;
	off_t from = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		log_warn("dhcp leases %s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("dhcp leases %s: not a regular file", path);
		close(fd);
		return NULL;
	}
	buf = xmalloc(LEASES_MAX_BYTES + 1);
	if (st.st_size > LEASES_MAX_BYTES) {
		if ((r = pread(fd, head, sizeof head, 0)) > 8 && memcmp(head, "address,", 8) == 0) {
			char *nl = memchr(head, '\n', (size_t)r);

			if (nl != NULL) {
				hlen = (size_t)(nl + 1 - head);
				memcpy(buf, head, hlen);
			}
		}
		from = st.st_size - (off_t)(LEASES_MAX_BYTES - hlen);
	}
	have = hlen;
	while (have < LEASES_MAX_BYTES) {
		want = LEASES_MAX_BYTES - have;
		r = pread(fd, buf + have, want, from + (off_t)(have - hlen));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_warn("dhcp leases %s", path);
			close(fd);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	if (from > 0) {
		/* The first line read from the middle is a fragment. */
		char *nl = memchr(buf + hlen, '\n', have - hlen);
		size_t skip = nl != NULL ? (size_t)(nl + 1 - (buf + hlen)) : have - hlen;

		memmove(buf + hlen, buf + hlen + skip, have - hlen - skip);
		have -= skip;
	}
	buf[have] = '\0';
	*len = have;
	return buf;
}

int
leases_lookup(const struct config *cfg, const char *ip, char mac[18], char *source, size_t srclen)
{
	size_t len;
	char *text;
	int rc;

	mac[0] = '\0';
	if (srclen > 0)
		source[0] = '\0';
	for (size_t i = 0; i < cfg->n_dhcp_leases; i++) {
		if ((text = leases_read(cfg->dhcp_leases[i], &len)) == NULL)
			continue;
		rc = leases_parse(text, len, ip, mac);
		free(text);
		if (rc == 0) {
			snprintf(source, srclen, "dhcp %s", cfg->dhcp_leases[i]);
			return 0;
		}
	}
	return 1;
}

int
mac_lookup(const struct config *cfg, const char *ip, char mac[18], char *source, size_t srclen)
{
	mac[0] = '\0';
	if (srclen > 0)
		source[0] = '\0';
	if (ip == NULL || ip[0] == '\0')
		return 1;
	/* On a local segment the kernel has seen the client's own MAC: the surest source. */
	if (neigh_lookup_mac(ip, mac) == 0) {
		snprintf(source, srclen, "neighbour");
		return 0;
	}
	if (cfg->routers != NULL && netport_router_mac(cfg, ip, mac, source, srclen) == 0)
		return 0;
	mac[0] = '\0';
	if (srclen > 0)
		source[0] = '\0';
	return leases_lookup(cfg, ip, mac, source, srclen);
}
