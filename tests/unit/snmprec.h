/* An agent's answers without an agent: snmpsim records (OID|tag|value) encoded as BER response PDUs. */
#ifndef SW_TEST_SNMPREC_H
#define SW_TEST_SNMPREC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_OID_MAX	128

/* One record of a .snmprec file. */
struct rec {
	uint32_t oid[REC_OID_MAX];
	size_t noid;
	int tag;			/* BER tag: 0x02 INTEGER, 0x04 OCTET STRING, 0x40 IpAddress, 0x41-0x43 ... */
	long num;
	unsigned char val[512];
	size_t len;
};

/* A growing byte buffer. */
struct bytes {
	unsigned char *p;
	size_t n, cap;
};

static void
bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	if (n > 0)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
bytes_byte(struct bytes *b, unsigned c)
{
	unsigned char u = (unsigned char)c;

	bytes_add(b, &u, 1);
}

/* tag, definite length, contents: the one BER shape. */
static void
ber_tlv(struct bytes *b, unsigned tag, const void *p, size_t n)
{
	bytes_byte(b, tag);
	if (n < 0x80)
		bytes_byte(b, (unsigned)n);
	else if (n < 0x100) {
		bytes_byte(b, 0x81);
		bytes_byte(b, (unsigned)n);
	} else {
		bytes_byte(b, 0x82);
		bytes_byte(b, (unsigned)(n >> 8));
		bytes_byte(b, (unsigned)(n & 0xff));
	}
	bytes_add(b, p, n);
}

static void
ber_int(struct bytes *b, unsigned tag, long v, int is_unsigned)
{
	unsigned char c[9];
	int n = 0;

	if (is_unsigned) {
		unsigned long u = (unsigned long)v & 0xffffffffUL;

		do {
			c[8 - n++] = (unsigned char)(u & 0xff);
			u >>= 8;
		} while (u != 0);
		if (c[9 - n] & 0x80)
			c[8 - n++] = 0;
	} else {
		do {
			c[8 - n++] = (unsigned char)(v & 0xff);
			v >>= 8;
		} while (!((v == 0 && !(c[9 - n] & 0x80)) || (v == -1 && (c[9 - n] & 0x80))));
	}
	ber_tlv(b, tag, c + 9 - n, (size_t)n);
}

static void
ber_oid(struct bytes *b, const uint32_t *o, size_t n)
{
	struct bytes c = { 0 };

	bytes_byte(&c, o[0] * 40 + (n > 1 ? o[1] : 0));
	for (size_t i = 2; i < n; i++) {
		unsigned char d[5];
		int k = 0;
		uint32_t v = o[i];

		do {
			d[4 - k] = (unsigned char)((v & 0x7f) | (k ? 0x80 : 0));
			k++;
			v >>= 7;
		} while (v != 0);
		bytes_add(&c, d + 5 - k, (size_t)k);
	}
	ber_tlv(b, 0x06, c.p, c.n);
	free(c.p);
}

/* "1.3.6.1..." into o; the number of sub-ids. */
static size_t
rec_oid_parse(const char *s, uint32_t *o)
{
	size_t n = 0;

	while (*s != '\0' && n < REC_OID_MAX) {
		o[n++] = (uint32_t)strtoul(s, (char **)&s, 10);
		if (*s == '.')
			s++;
		else
			break;
	}
	return n;
}

static int
oid_cmp(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	for (size_t i = 0; i < na && i < nb; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return na < nb ? -1 : na > nb;
}

static int
rec_cmp(const void *x, const void *y)
{
	const struct rec *a = x, *b = y;

	return oid_cmp(a->oid, a->noid, b->oid, b->noid);
}

/* The records of an .snmprec file, in OID order; NULL when it cannot be read. */
static struct rec *
snmprec_load(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[1200];
	struct rec *recs = NULL;

	*n = 0;
	if (f == NULL)
		return NULL;
	while (fgets(line, sizeof line, f) != NULL) {
		char *t = strchr(line, '|'), *v, *nl;
		struct rec r;

		if (t == NULL || (v = strchr(t + 1, '|')) == NULL)
			continue;
		*t++ = '\0';
		*v++ = '\0';
		if ((nl = strchr(v, '\n')) != NULL)
			*nl = '\0';
		memset(&r, 0, sizeof r);
		r.noid = rec_oid_parse(line, r.oid);
		r.tag = atoi(t);
		if (strchr(t, 'x') != NULL) {
			for (size_t i = 0; v[2 * i] != '\0' && v[2 * i + 1] != '\0' && i < sizeof r.val; i++) {
				char h[3] = { v[2 * i], v[2 * i + 1], '\0' };

				r.val[r.len++] = (unsigned char)strtoul(h, NULL, 16);
			}
		} else {
			if (strncmp(v, "value=", 6) == 0)
				v += 6;
			r.num = strtol(v, NULL, 10);
			r.len = strlen(v) < sizeof r.val ? strlen(v) : sizeof r.val;
			memcpy(r.val, v, r.len);
		}
		/* snmprec tags are decimal: 2, 4, 64 IpAddress, 65 Counter32, 66 Gauge32, 67 TimeTicks. */
		if (r.tag >= 64)
			r.tag = 0x40 + (r.tag - 64);
		if ((recs = realloc(recs, (*n + 1) * sizeof *recs)) == NULL)
			abort();
		recs[(*n)++] = r;
	}
	fclose(f);
	qsort(recs, *n, sizeof *recs, rec_cmp);
	return recs;
}

/* One varbind: the record's OID and value. */
static void
ber_varbind(struct bytes *b, const struct rec *r)
{
	struct bytes c = { 0 };

	ber_oid(&c, r->oid, r->noid);
	switch (r->tag) {
	case 0x02:
		ber_int(&c, 0x02, r->num, 0);
		break;
	case 0x41:
	case 0x42:
	case 0x43:
		ber_int(&c, (unsigned)r->tag, r->num, 1);
		break;
	case 0x05:
	case 0x80:
	case 0x81:
	case 0x82:
		ber_tlv(&c, (unsigned)r->tag, NULL, 0);	/* NULL and the exceptions */
		break;
	default:
		ber_tlv(&c, (unsigned)r->tag, r->val, r->len);
		break;
	}
	ber_tlv(b, 0x30, c.p, c.n);
	free(c.p);
}

/* A Response PDU (0xa2) with these varbinds and error status. */
static void
ber_response(struct bytes *b, const struct rec *const *vars, size_t n, long errstat, long errindex)
{
	struct bytes vb = { 0 }, pdu = { 0 };

	for (size_t i = 0; i < n; i++)
		ber_varbind(&vb, vars[i]);
	ber_int(&pdu, 0x02, 1, 0);
	ber_int(&pdu, 0x02, errstat, 0);
	ber_int(&pdu, 0x02, errindex, 0);
	ber_tlv(&pdu, 0x30, vb.p, vb.n);
	ber_tlv(b, 0xa2, pdu.p, pdu.n);
	free(vb.p);
	free(pdu.p);
}

static int
rec_under(const struct rec *r, const uint32_t *o, size_t no)
{
	return r->noid > no && oid_cmp(r->oid, no, o, no) == 0;
}

/*
 * What an agent holding recs answers the GETBULKs of a walk of base with:
 * the next per objects in OID order each time (endOfMibView past the last),
 * until a reply reaches past the subtree.
 */
static void
replies_walk(struct bytes *b, const struct rec *recs, size_t n, const char *base, size_t per)
{
	static const struct rec end = { .oid = { 1, 3, 6, 1, 99 }, .noid = 5, .tag = 0x82 };
	uint32_t o[REC_OID_MAX];
	size_t no = rec_oid_parse(base, o), i = 0;
	const struct rec **vars = calloc(per + 1, sizeof *vars);

	if (vars == NULL)
		abort();
	while (i < n && oid_cmp(recs[i].oid, recs[i].noid, o, no) <= 0)
		i++;
	for (;;) {
		size_t k = 0;

		while (k < per && i < n)
			vars[k++] = &recs[i++];
		if (k < per)
			vars[k++] = &end;
		ber_response(b, vars, k, 0, 0);
		if (vars[k - 1] == &end || !rec_under(vars[k - 1], o, no))
			break;
	}
	free(vars);
}

/* What an agent holding recs answers a GET of each object under base with: one reply each, or noSuchObject. */
static void
replies_gets(struct bytes *b, const struct rec *recs, size_t n, const char *base)
{
	struct rec none = { .tag = 0x80 };
	const struct rec *np = &none;
	uint32_t o[REC_OID_MAX];
	size_t no = rec_oid_parse(base, o), got = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rec *r = &recs[i];

		if (rec_under(r, o, no)) {
			ber_response(b, &r, 1, 0, 0);
			got++;
		}
	}
	if (got == 0) {
		memcpy(none.oid, o, no * sizeof *o);
		none.noid = no + 1;
		ber_response(b, &np, 1, 0, 0);
	}
}

/* The OID of each table netport reads (enum netport_table), and whether it is read by GETs. */
static const struct {
	const char *oid;
	int get;
} replay_tables[] = {
	{ "1.3.6.1.2.1.17.1.4.1.2", 0 },
	{ "1.3.6.1.2.1.17.4.3.1.2", 0 },
	{ "1.3.6.1.2.1.17.7.1.4.2.1.3", 0 },
	{ "1.3.6.1.2.1.17.7.1.2.2.1.2", 0 },
	{ "1.0.8802.1.1.2.1.4.1.1.9", 0 },
	{ "1.3.6.1.2.1.31.1.1.1.1", 1 },
	{ "1.3.6.1.2.1.2.2.1.2", 1 },
	{ "1.3.6.1.4.1.9.9.46.1.6.1.1.14", 1 },
	{ "1.3.6.1.2.1.4.22.1.2", 0 },
};

/* Every table's replies from the records, per values a GETBULK answer, into b[i] (free each b[i].p). */
static void
replies_tables(const struct rec *recs, size_t n, size_t per, struct bytes *b)
{
	for (size_t i = 0; i < sizeof replay_tables / sizeof replay_tables[0]; i++) {
		memset(&b[i], 0, sizeof b[i]);
		if (replay_tables[i].get)
			replies_gets(&b[i], recs, n, replay_tables[i].oid);
		else
			replies_walk(&b[i], recs, n, replay_tables[i].oid, per);
	}
}

#endif
