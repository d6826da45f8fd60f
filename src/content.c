/* Content analysis of written files: format signatures, structure and entropy against what the name promises. */
#include <sys/eventfd.h>
#include <sys/stat.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "content.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#define TINY_FILE	64	/* below this there is nothing to say */
#define MIN_JUDGED	64	/* a sample shorter than this is never called random: text can look dense */
#define DEFLATE_PEEK	768	/* compressed bytes decoded to tell deflate from noise */

/* Formats the classifier knows by their bytes. */
enum fmt {
	FMT_NONE, FMT_TEXT, FMT_ZIP, FMT_OLE2, FMT_PDF, FMT_JPEG, FMT_PNG, FMT_GIF, FMT_BMP,
	FMT_TIFF, FMT_WEBP, FMT_MP4, FMT_MKV, FMT_AVI, FMT_MP3, FMT_WAV, FMT_FLAC, FMT_OGG,
	FMT_7Z, FMT_GZIP, FMT_BZIP2, FMT_XZ, FMT_ZSTD, FMT_RAR, FMT_TAR, FMT_PGP, FMT_KDBX,
	FMT_SQLITE, FMT_EXE, FMT_RTF, FMT_PS, FMT_PSD, FMT_ISO, FMT_LNK, FMT_PST, FMT_ACCESS,
	FMT_DWG, FMT_DER, FMT_GITPACK, FMT_PACKED, FMT_AESCRYPT, FMT_AGE, FMT_OPENSSL, FMT_BINARY, FMT_RANDOM,
	FMT__COUNT
};

#define M(f)	(UINT64_C(1) << (f))
_Static_assert(FMT__COUNT <= 64, "format sets are 64-bit masks");

struct part {
	const unsigned char *p;
	size_t n;
	double h;		/* Shannon entropy, bits per byte */
	double chi;		/* chi-square of the byte counts against uniform */
	uint32_t hist[256];
};

struct samples {
	struct part part[3];		/* head, middle, tail */
	const unsigned char *end;	/* the bytes that end at the end of the file, if any were read */
	size_t endlen;
	uint64_t size;
	enum { W_NONE, W_16LE, W_16BE, W_32LE, W_32BE } wide;	/* UTF-16 or UTF-32 text */
	int bom;			/* the head starts with a byte order mark */
};

enum { HEAD, MID, TAIL };

/* c * log2(c) for c < 256: most counts of a 4 KiB sample are small, so entropy needs few log2 calls. */
static const double xlog2x[256] = {
	0.000000, 0.000000, 2.000000, 4.754888, 8.000000, 11.609640, 15.509775, 19.651484,
	24.000000, 28.529325, 33.219281, 38.053748, 43.019550, 48.105716, 53.302969, 58.603359,
	64.000000, 69.486868, 75.058650, 80.710623, 86.438562, 92.238666, 98.107496, 104.041925,
	110.039100, 116.096405, 122.211433, 128.381963, 134.605938, 140.881449, 147.206718, 153.580086,
	160.000000, 166.465006, 172.973737, 179.524906, 186.117300, 192.749775, 199.421246, 206.130687,
	212.877124, 219.659632, 226.477332, 233.329384, 240.214991, 247.133389, 254.083850, 261.065676,
	268.078200, 275.120782, 282.192809, 289.293692, 296.422865, 303.579784, 310.763925, 317.974784,
	325.211876, 332.474731, 339.762898, 347.075940, 354.413436, 361.774978, 369.160171, 376.568635,
	384.000000, 391.453908, 398.930012, 406.427976, 413.947473, 421.488188, 429.049811, 436.632045,
	444.234600, 451.857193, 459.499549, 467.161402, 474.842491, 482.542564, 490.261373, 497.998679,
	505.754248, 513.527850, 521.319264, 529.128273, 536.954664, 544.798230, 552.658769, 560.536084,
	568.429982, 576.340275, 584.266779, 592.209312, 600.167700, 608.141769, 616.131352, 624.136283,
	632.156400, 640.191546, 648.241565, 656.306305, 664.385619, 672.479360, 680.587385, 688.709554,
	696.845731, 704.995779, 713.159568, 721.336968, 729.527850, 737.732091, 745.949568, 754.180161,
	762.423751, 770.680223, 778.949462, 787.231356, 795.525795, 803.832672, 812.151880, 820.483314,
	828.826871, 837.182452, 845.549955, 853.929284, 862.320342, 870.723036, 879.137270, 887.562955,
	896.000000, 904.448316, 912.907816, 921.378413, 929.860024, 938.352564, 946.855952, 955.370106,
	963.894946, 972.430395, 980.976375, 989.532809, 998.099622, 1006.676741, 1015.264091, 1023.861601,
	1032.469200, 1041.086818, 1049.714386, 1058.351835, 1066.999098, 1075.656110, 1084.322804, 1092.999116,
	1101.684982, 1110.380340, 1119.085127, 1127.799283, 1136.522746, 1145.255458, 1153.997358, 1162.748390,
	1171.508495, 1180.277617, 1189.055700, 1197.842689, 1206.638529, 1215.443165, 1224.256546, 1233.078617,
	1241.909327, 1250.748625, 1259.596459, 1268.452780, 1277.317538, 1286.190683, 1295.072168, 1303.961945,
	1312.859965, 1321.766182, 1330.680551, 1339.603024, 1348.533557, 1357.472106, 1366.418625, 1375.373070,
	1384.335400, 1393.305570, 1402.283539, 1411.269264, 1420.262704, 1429.263818, 1438.272566, 1447.288906,
	1456.312800, 1465.344208, 1474.383091, 1483.429411, 1492.483129, 1501.544208, 1510.612611, 1519.688299,
	1528.771238, 1537.861390, 1546.958720, 1556.063191, 1565.174770, 1574.293420, 1583.419109, 1592.551800,
	1601.691461, 1610.838059, 1619.991559, 1629.151929, 1638.319136, 1647.493149, 1656.673935, 1665.861463,
	1675.055700, 1684.256617, 1693.464183, 1702.678366, 1711.899137, 1721.126466, 1730.360322, 1739.600678,
	1748.847503, 1758.100768, 1767.360446, 1776.626507, 1785.898923, 1795.177667, 1804.462712, 1813.754029,
	1823.051591, 1832.355372, 1841.665344, 1850.981482, 1860.303760, 1869.632150, 1878.966628, 1888.307167,
	1897.653743, 1907.006330, 1916.364903, 1925.729438, 1935.099910, 1944.476295, 1953.858568, 1963.246706,
	1972.640685, 1982.040481, 1991.446071, 2000.857432, 2010.274541, 2019.697374, 2029.125910, 2038.560126,
};

/*
 * Expected entropy of n uniformly random bytes (exact expectation of the
 * plug-in estimator): short samples of ciphertext score well below 8 bits.
 */
static const struct {
	uint16_t n;
	float h;
} random_h[] = {
	{ 16, 3.942 }, { 32, 4.882 }, { 48, 5.408 }, { 64, 5.766 }, { 96, 6.240 }, { 128, 6.550 },
	{ 192, 6.939 }, { 256, 7.175 }, { 384, 7.445 }, { 512, 7.590 }, { 768, 7.738 },
	{ 1024, 7.809 }, { 1536, 7.876 }, { 2048, 7.908 }, { 3072, 7.939 }, { 4096, 7.955 },
};

/* Thresholds at 4 KiB, scaled to shorter samples by the expected entropy of random bytes. */
#define H_RANDOM_4K	7.955
#define H_CIPHER_4K	7.5	/* every part above: ciphertext */
#define H_TEXT_4K	7.2	/* a text part above: not text any more */

static const uint32_t crc_nib[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

/* Ogg pages use the unreflected CRC-32 (polynomial 0x04c11db7, no inversion). */
static const uint32_t ogg_nib[16] = {
	0x00000000, 0x04c11db7, 0x09823b6e, 0x0d4326d9, 0x130476dc, 0x17c56b6b, 0x1a864db2, 0x1e475005,
	0x2608edb8, 0x22c9f00f, 0x2f8ad6d6, 0x2b4bcb61, 0x350c9b64, 0x31cd86d3, 0x3c8ea00a, 0x384fbdbd,
};

static uint32_t
le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint32_t
be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | (uint32_t)p[1];
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Whether [off, off + len) lies inside n bytes. */
static int
has(size_t n, size_t off, size_t len)
{
	return off <= n && len <= n - off;
}

static int
starts(const unsigned char *p, size_t n, const char *magic, size_t len)
{
	return n >= len && memcmp(p, magic, len) == 0;
}

static uint32_t
crc32_of(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xffffffff;

	while (n-- > 0) {
		crc ^= *p++;
		crc = (crc >> 4) ^ crc_nib[crc & 15];
		crc = (crc >> 4) ^ crc_nib[crc & 15];
	}
	return ~crc;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0';
}

/* Four bytes that can name a chunk or box: printable ASCII. */
static int
is_fourcc(const unsigned char *p)
{
	int i;

	for (i = 0; i < 4; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

/* Entropy and chi-square of one sample. */
static void
part_measure(struct part *pt, const unsigned char *p, size_t n)
{
	static const unsigned char none[1];
	double sum = 0, sq = 0, e;
	size_t i;
	uint32_t c;

	pt->p = n > 0 ? p : none;	/* never NULL: memchr and memmem want a pointer even for 0 bytes */
	pt->n = n;
	memset(pt->hist, 0, sizeof(pt->hist));
	for (i = 0; i < n; i++)
		pt->hist[p[i]]++;
	pt->h = -1;
	pt->chi = 0;
	if (n == 0)
		return;
	for (i = 0; i < 256; i++) {
		if ((c = pt->hist[i]) == 0)
			continue;
		sum += c < 256 ? xlog2x[c] : c * log2(c);
		sq += (double)c * c;
	}
	e = log2((double)n) - sum / (double)n;
	pt->h = e < 0 ? 0 : e;
	pt->chi = sq * 256.0 / (double)n - (double)n;
}

static double
random_entropy(size_t n)
{
	size_t i;
	double f;

	if (n >= 4096)
		return 8.0 - 183.9 / (double)n;
	if (n <= random_h[0].n)
		return random_h[0].h * (double)n / random_h[0].n;
	for (i = 1; i < nitems(random_h); i++)
		if (n <= random_h[i].n)
			break;
	f = (double)(n - random_h[i - 1].n) / (double)(random_h[i].n - random_h[i - 1].n);
	return random_h[i - 1].h + f * (random_h[i].h - random_h[i - 1].h);
}

/* Whether a sample is as random as h4k allows at 4 KiB, scaled to its length. */
static int
part_above(const struct part *pt, double h4k)
{
	if (pt->n < MIN_JUDGED)
		return 0;
	return pt->h > random_entropy(pt->n) * h4k / H_RANDOM_4K;
}

/*
 * Indistinguishable from ciphertext: entropy at the expected maximum and byte
 * counts as even as chance makes them. Natural data (pixels, audio) that only
 * looks busy fails the chi-square bound by far.
 */
static int
part_strict_random(const struct part *pt)
{
	if (pt->n < 1024)
		return 0;
	return pt->h > random_entropy(pt->n) - 0.05 && pt->chi < 360;
}

/*
 * Control bytes that text never holds. Tab, newlines, form feed, ESC (ANSI
 * colours, ISO-2022-JP) and SO/SI (ISO-2022-KR) are text; so are runs of NUL
 * (preallocated or sparse tails).
 */
static size_t
count_controls(const struct part *pt)
{
	const unsigned char *p = pt->p, *q, *end = pt->p + pt->n;
	size_t bad = pt->hist[0x7f] + pt->hist[0], run;
	int c;

	for (c = 1; c < 0x20; c++)
		if (c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' && c != 0x1b && c != 0x0e &&
		    c != 0x0f)
			bad += pt->hist[c];
	if (pt->hist[0] >= 8) {
		for (q = p; (q = memchr(q, 0, (size_t)(end - q))) != NULL; q += run) {
			for (run = 1; q + run < end && q[run] == 0; run++)
				;
			if (run >= 8)
				bad -= run;
		}
	}
	return bad;
}

/*
 * 8-bit text: UTF-8 or any single-byte or legacy multi-byte code page
 * (latin-1, cp1252, cp1251, Shift-JIS, GBK) has almost no control bytes.
 * Random bytes hold about 10% of them, so text with every other 16 bytes
 * encrypted holds about 5%: the bound sits well below that, at 3%.
 */
static int
text8(const struct part *pt)
{
	return count_controls(pt) * 100 <= pt->n * 3;
}

/*
 * UTF-16 text: few controls, private-use characters, non-characters or lone
 * surrogates. Random units hold about 13% of them.
 */
static int
text16(const struct part *pt, int big, int skip_bom)
{
	size_t units = pt->n / 2, i = skip_bom ? 1 : 0, bad = 0, total;
	unsigned u, v;

	total = units > i ? units - i : 0;
	if (total == 0)
		return 1;
	if (!skip_bom) {
		u = big ? be16(pt->p) : le16(pt->p);
		if (u >= 0xdc00 && u <= 0xdfff)
			i++;		/* the low half of a pair cut by the sample's start */
	}
	for (; i < units; i++) {
		u = big ? be16(pt->p + 2 * i) : le16(pt->p + 2 * i);
		if (u >= 0xd800 && u <= 0xdbff) {
			if (i + 1 == units)
				break;
			v = big ? be16(pt->p + 2 * i + 2) : le16(pt->p + 2 * i + 2);
			if (v >= 0xdc00 && v <= 0xdfff) {
				i++;
				continue;
			}
			bad++;
		} else if (u >= 0xdc00 && u <= 0xdfff)
			bad++;
		else if (u < 0x20 && u != '\t' && u != '\n' && u != '\r' && u != '\f')
			bad++;
		else if ((u >= 0x7f && u <= 0x9f) || (u >= 0xe000 && u <= 0xf8ff) ||
		    (u >= 0xfdd0 && u <= 0xfdef) || u >= 0xfffe)
			bad++;
	}
	return bad * 100 <= total * 3;
}

/* UTF-32 text: every unit a code point; a random unit almost never is. */
static int
text32(const struct part *pt, int big, int skip_bom)
{
	size_t units = pt->n / 4, i = skip_bom ? 1 : 0, bad = 0;
	uint32_t u;

	if (units <= i)
		return 1;
	for (; i < units; i++) {
		u = big ? be32(pt->p + 4 * i) : le32(pt->p + 4 * i);
		if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff) || (u >= 0xe000 && u <= 0xf8ff) ||
		    (u < 0x20 && u != '\t' && u != '\n' && u != '\r' && u != '\f') || (u >= 0x7f && u <= 0x9f))
			bad++;
	}
	return bad * 100 <= (units - (skip_bom ? 1 : 0)) * 3;
}

/* UTF-16 or UTF-32 text: from a byte order mark, or from where the zero bytes of Latin text fall. */
static void
detect_wide(struct samples *s)
{
	const struct part *h = &s->part[HEAD];
	const unsigned char *p = h->p;
	size_t n = h->n & ~(size_t)3, z[4] = { 0, 0, 0, 0 }, q = n / 4, i;

	if (starts(p, h->n, "\xff\xfe\0\0", 4) || starts(p, h->n, "\0\0\xfe\xff", 4)) {
		s->wide = p[0] == 0xff ? W_32LE : W_32BE;
		s->bom = 1;
		return;
	}
	if (starts(p, h->n, "\xff\xfe", 2) || starts(p, h->n, "\xfe\xff", 2)) {
		s->wide = p[0] == 0xff ? W_16LE : W_16BE;
		s->bom = 1;
		return;
	}
	if (n < MIN_JUDGED || h->hist[0] < n / 8)
		return;
	for (i = 0; i < n; i++)
		z[i & 3] += p[i] == 0;
	if (z[2] * 10 >= q * 9 && z[3] * 10 >= q * 9 && z[0] * 10 < q)
		s->wide = W_32LE;
	else if (z[0] * 10 >= q * 9 && z[1] * 10 >= q * 9 && z[3] * 10 < q)
		s->wide = W_32BE;
	else if ((z[1] + z[3]) * 10 >= q * 2 * 4 && (z[0] + z[2]) * 20 <= q * 2)
		s->wide = W_16LE;
	else if ((z[0] + z[2]) * 10 >= q * 2 * 4 && (z[1] + z[3]) * 20 <= q * 2)
		s->wide = W_16BE;
}

/* A sample is text when it decodes as text and is not as dense as ciphertext. */
static int
part_text(const struct samples *s, int i)
{
	const struct part *pt = &s->part[i];
	int skip = i == HEAD && s->bom;

	if (pt->n == 0)
		return 1;
	switch (s->wide) {
	case W_16LE:
	case W_16BE:
		return text16(pt, s->wide == W_16BE, skip);
	case W_32LE:
	case W_32BE:
		return text32(pt, s->wide == W_32BE, skip);
	default:
		break;
	}
	if (part_above(pt, H_TEXT_4K))
		return 0;
	return text8(pt);
}

/* Long runs of a base64 or hex alphabet without spaces: an encoded blob, not prose. */
static int
part_base64(const struct part *pt)
{
	size_t alpha = pt->hist['+'] + pt->hist['/'] + pt->hist['='] + pt->hist['-'] + pt->hist['_'] +
	    pt->hist['\r'] + pt->hist['\n'];
	int c;

	if (pt->n < 256 || pt->hist[' '] > 0)
		return 0;
	for (c = '0'; c <= '9'; c++)
		alpha += pt->hist[c];
	for (c = 'a'; c <= 'z'; c++)
		alpha += pt->hist[c] + pt->hist[c - 'a' + 'A'];
	return alpha * 100 >= pt->n * 99;
}

/* Near-empty parts (zeros of a sparse or preallocated file) say nothing either way. */
static int
part_blank(const struct part *pt)
{
	return pt->n > 0 && pt->h < 1.0;
}

/*
 * A tiny inflate that only validates: decoding the first few hundred bytes of
 * a deflate stream tells real compressed data from noise behind a valid
 * header (intermittent encryption that spared the first bytes). No output is
 * produced; a back reference beyond the bytes decoded so far is invalid.
 */
#define DFL_MAXBITS	15

struct dfl {
	const unsigned char *p;
	size_t n, pos;
	uint32_t buf;
	int cnt;
	uint32_t out;
};

struct huff {
	uint16_t count[DFL_MAXBITS + 1];
	uint16_t sym[288];
};

static const uint16_t dfl_len_base[29] = {
	3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
	131, 163, 195, 227, 258,
};
static const uint8_t dfl_len_extra[29] = {
	0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
};
static const uint16_t dfl_dist_base[30] = {
	1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
	2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
};
static const uint8_t dfl_dist_extra[30] = {
	0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
	13, 13,
};

/* need bits, or -1 at the end of the input. */
static int
dfl_bits(struct dfl *d, int need)
{
	uint32_t v = d->buf;

	while (d->cnt < need) {
		if (d->pos == d->n)
			return -1;
		v |= (uint32_t)d->p[d->pos++] << d->cnt;
		d->cnt += 8;
	}
	d->buf = v >> need;
	d->cnt -= need;
	return (int)(v & ((1u << need) - 1));
}

/* A canonical code from code lengths: 0 complete, > 0 incomplete, < 0 over-subscribed. */
static int
huff_build(struct huff *h, const uint8_t *len, int n)
{
	uint16_t offs[DFL_MAXBITS + 1];
	int left, i;

	memset(h->count, 0, sizeof(h->count));
	for (i = 0; i < n; i++)
		h->count[len[i]]++;
	if (h->count[0] == n)
		return 0;
	left = 1;
	for (i = 1; i <= DFL_MAXBITS; i++) {
		left <<= 1;
		left -= h->count[i];
		if (left < 0)
			return left;
	}
	offs[1] = 0;
	for (i = 1; i < DFL_MAXBITS; i++)
		offs[i + 1] = offs[i] + h->count[i];
	for (i = 0; i < n; i++)
		if (len[i] != 0)
			h->sym[offs[len[i]]++] = (uint16_t)i;
	return left;
}

/* A symbol, -1 at the end of the input, -2 for a code the table does not have. */
static int
huff_decode(struct dfl *d, const struct huff *h)
{
	int code = 0, first = 0, index = 0, len, b, count;

	for (len = 1; len <= DFL_MAXBITS; len++) {
		if ((b = dfl_bits(d, 1)) < 0)
			return -1;
		code |= b;
		count = h->count[len];
		if (code - count < first)
			return h->sym[index + (code - first)];
		index += count;
		first += count;
		first <<= 1;
		code <<= 1;
	}
	return -2;
}

/* 1 end of block, 0 invalid, -1 end of input. */
static int
dfl_codes(struct dfl *d, const struct huff *lc, const struct huff *dc)
{
	int sym, v, len;

	for (;;) {
		if ((sym = huff_decode(d, lc)) < 0)
			return sym == -1 ? -1 : 0;
		if (sym < 256) {
			d->out++;
			continue;
		}
		if (sym == 256)
			return 1;
		sym -= 257;
		if (sym >= 29)
			return 0;
		if ((v = dfl_bits(d, dfl_len_extra[sym])) < 0)
			return -1;
		len = dfl_len_base[sym] + v;
		if ((sym = huff_decode(d, dc)) < 0)
			return sym == -1 ? -1 : 0;
		if (sym >= 30)
			return 0;
		if ((v = dfl_bits(d, dfl_dist_extra[sym])) < 0)
			return -1;
		if ((uint32_t)(dfl_dist_base[sym] + v) > d->out)
			return 0;
		d->out += (uint32_t)len;
	}
}

static int
dfl_stored(struct dfl *d)
{
	uint32_t len;

	d->buf = 0;
	d->cnt = 0;
	if (!has(d->n, d->pos, 4))
		return -1;
	len = le16(d->p + d->pos);
	if (len != (~le16(d->p + d->pos + 2) & 0xffff))
		return 0;
	d->pos += 4;
	if (len > d->n - d->pos)
		return -1;
	d->pos += len;
	d->out += len;
	return 1;
}

static int
dfl_fixed(struct dfl *d)
{
	uint8_t len[288];
	struct huff lc, dc;
	int i;

	for (i = 0; i < 288; i++)
		len[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
	huff_build(&lc, len, 288);
	for (i = 0; i < 30; i++)
		len[i] = 5;
	huff_build(&dc, len, 30);
	return dfl_codes(d, &lc, &dc);
}

static int
dfl_dynamic(struct dfl *d)
{
	static const uint8_t order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
	uint8_t len[286 + 30];
	struct huff lc, dc;
	int nlen, ndist, ncode, i, v, sym, rep, err;
	uint8_t fill;

	if ((nlen = dfl_bits(d, 5)) < 0 || (ndist = dfl_bits(d, 5)) < 0 || (ncode = dfl_bits(d, 4)) < 0)
		return -1;
	nlen += 257;
	ndist += 1;
	ncode += 4;
	if (nlen > 286 || ndist > 30)
		return 0;
	for (i = 0; i < ncode; i++) {
		if ((v = dfl_bits(d, 3)) < 0)
			return -1;
		len[order[i]] = (uint8_t)v;
	}
	for (; i < 19; i++)
		len[order[i]] = 0;
	if (huff_build(&lc, len, 19) != 0)
		return 0;
	for (i = 0; i < nlen + ndist;) {
		if ((sym = huff_decode(d, &lc)) < 0)
			return sym == -1 ? -1 : 0;
		if (sym < 16) {
			len[i++] = (uint8_t)sym;
			continue;
		}
		fill = 0;
		if (sym == 16) {
			if (i == 0)
				return 0;
			fill = len[i - 1];
			v = dfl_bits(d, 2);
			rep = 3 + v;
		} else if (sym == 17) {
			v = dfl_bits(d, 3);
			rep = 3 + v;
		} else {
			v = dfl_bits(d, 7);
			rep = 11 + v;
		}
		if (v < 0)
			return -1;
		if (i + rep > nlen + ndist)
			return 0;
		while (rep-- > 0)
			len[i++] = fill;
	}
	if (len[256] == 0)
		return 0;
	err = huff_build(&lc, len, nlen);
	if (err < 0 || (err > 0 && nlen != lc.count[0] + lc.count[1]))
		return 0;
	err = huff_build(&dc, len + nlen, ndist);
	if (err < 0 || (err > 0 && ndist != dc.count[0] + dc.count[1]))
		return 0;
	return dfl_codes(d, &lc, &dc);
}

/* Whether p can start a raw deflate stream: 0 only when it certainly cannot. */
static int
deflate_plausible(const unsigned char *p, size_t n)
{
	struct dfl d;
	int last, type, rc;

	memset(&d, 0, sizeof(d));
	d.p = p;
	d.n = n > DEFLATE_PEEK ? DEFLATE_PEEK : n;
	do {
		if ((last = dfl_bits(&d, 1)) < 0 || (type = dfl_bits(&d, 2)) < 0)
			return 1;
		if (type == 0)
			rc = dfl_stored(&d);
		else if (type == 1)
			rc = dfl_fixed(&d);
		else if (type == 2)
			rc = dfl_dynamic(&d);
		else
			return 0;
		if (rc <= 0)
			return rc < 0;
	} while (!last);
	return 1;
}

/*
 * Signatures: magic bytes at the start, nothing more (structure is checked
 * below). Formats that need more than fixed bytes have a function.
 */
static const struct magic {
	enum fmt fmt;
	const char *bytes;
	size_t len;
} magics[] = {
	{ FMT_ZIP, "PK\3\4", 4 }, { FMT_ZIP, "PK\5\6", 4 }, { FMT_ZIP, "PK\7\10PK\3\4", 8 },
	{ FMT_OLE2, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8 }, { FMT_JPEG, "\xff\xd8\xff", 3 },
	{ FMT_PNG, "\x89PNG\r\n\x1a\n", 8 }, { FMT_GIF, "GIF87a", 6 }, { FMT_GIF, "GIF89a", 6 },
	{ FMT_TIFF, "II*\0", 4 }, { FMT_TIFF, "MM\0*", 4 }, { FMT_TIFF, "II+\0", 4 }, { FMT_TIFF, "MM\0+", 4 },
	{ FMT_MKV, "\x1a\x45\xdf\xa3", 4 }, { FMT_FLAC, "fLaC", 4 }, { FMT_OGG, "OggS\0", 5 },
	{ FMT_7Z, "7z\xbc\xaf\x27\x1c", 6 }, { FMT_GZIP, "\x1f\x8b\x08", 3 }, { FMT_XZ, "\xfd" "7zXZ\0", 6 },
	{ FMT_RAR, "Rar!\x1a\x07\x00", 7 }, { FMT_RAR, "Rar!\x1a\x07\x01\x00", 8 },
	{ FMT_SQLITE, "SQLite format 3\0", 16 }, { FMT_EXE, "MZ", 2 }, { FMT_RTF, "{\\rtf", 5 },
	{ FMT_PS, "%!PS", 4 }, { FMT_PS, "\xc5\xd0\xd3\xc6", 4 }, { FMT_PSD, "8BPS", 4 },
	{ FMT_LNK, "L\0\0\0\1\24\2\0", 8 }, { FMT_PST, "!BDN", 4 }, { FMT_ACCESS, "\0\1\0\0Standard ", 13 },
	{ FMT_AESCRYPT, "AES\1\0", 5 }, { FMT_AESCRYPT, "AES\2\0", 5 }, { FMT_AESCRYPT, "AES\3\0", 5 },
	{ FMT_AGE, "age-encryption.org/v1\n", 22 }, { FMT_AGE, "-----BEGIN AGE ENCRYPTED FILE-----", 34 },
	{ FMT_OPENSSL, "Salted__", 8 },
};

static int
sig_pdf(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	return memmem(p, n < 1024 ? n : 1024, "%PDF-", 5) != NULL;
}

static int
sig_bmp(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	return starts(p, n, "BM", 2) && n >= 18 && le32(p + 6) == 0;
}

static int
riff(const struct samples *s, const char *form)
{
	const struct part *h = &s->part[HEAD];

	return h->n >= 12 && memcmp(h->p, "RIFF", 4) == 0 && memcmp(h->p + 8, form, 4) == 0;
}

static int
sig_webp(const struct samples *s)
{
	return riff(s, "WEBP");
}

static int
sig_avi(const struct samples *s)
{
	return riff(s, "AVI ");
}

static int
sig_wav(const struct samples *s)
{
	return riff(s, "WAVE");
}

/* ISO base media (mp4, mov, m4a, heic, 3gp): "ftyp" first, or an old QuickTime top-level atom. */
static int
sig_mp4(const struct samples *s)
{
	static const char *const atoms[] = { "ftyp", "moov", "mdat", "wide", "free", "skip", "pnot" };
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, i;
	uint32_t len;

	if (n < 12)
		return 0;
	len = be32(p);
	if (memcmp(p + 4, "ftyp", 4) == 0)
		return len >= 8;
	if (len < 8 || len > s->size)
		return 0;
	for (i = 0; i < nitems(atoms); i++)
		if (memcmp(p + 4, atoms[i], 4) == 0)
			return 1;
	return 0;
}

/* MPEG audio frame header at p: its length (0 when invalid) and a key that consecutive frames share. */
static size_t
mp3_frame(const unsigned char *p, unsigned *key)
{
	static const uint16_t rate1[3][16] = {
		{ 0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0 },
		{ 0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0 },
		{ 0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0 },
	};
	static const uint16_t rate2[3][16] = {
		{ 0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0 },
		{ 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0 },
		{ 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0 },
	};
	static const uint32_t srate[3] = { 44100, 48000, 32000 };
	unsigned ver, layer, bri, sri, pad;
	uint32_t sr, br;

	if (p[0] != 0xff || (p[1] & 0xe0) != 0xe0)
		return 0;
	ver = (p[1] >> 3) & 3;		/* 0 MPEG 2.5, 1 reserved, 2 MPEG 2, 3 MPEG 1 */
	layer = (p[1] >> 1) & 3;	/* 1 layer III, 2 layer II, 3 layer I */
	bri = p[2] >> 4;
	sri = (p[2] >> 2) & 3;
	pad = (p[2] >> 1) & 1;
	if (ver == 1 || layer == 0 || bri == 0 || bri == 15 || sri == 3 || (p[3] & 3) == 2)
		return 0;
	sr = srate[sri] >> (ver == 3 ? 0 : ver == 2 ? 1 : 2);
	br = (ver == 3 ? rate1 : rate2)[3 - layer][bri] * 1000u;
	*key = (p[1] & 0xfe) << 8 | (p[2] & 0x0c);
	if (layer == 3)
		return (12 * br / sr + pad) * 4;
	if (layer == 1 && ver != 3)
		return 72 * br / sr + pad;
	return 144 * br / sr + pad;
}

/*
 * Two consecutive MPEG audio frames starting in [from, to): 1 found, 0 not,
 * -1 too few bytes to tell (two of the longest common frames need 3000).
 */
static int
mp3_chain(const unsigned char *p, size_t n, size_t from, size_t to)
{
	const unsigned char *q;
	size_t i, len;
	unsigned k1, k2;

	if (from >= n)
		return -1;
	if (to > n)
		to = n;
	for (i = from; i < to; i++) {
		if ((q = memchr(p + i, 0xff, to - i)) == NULL)
			break;
		i = (size_t)(q - p);
		if (!has(n, i, 4) || (len = mp3_frame(p + i, &k1)) == 0)
			continue;
		if (has(n, i + len, 4) && mp3_frame(p + i + len, &k2) != 0 && k1 == k2)
			return 1;
	}
	return n - from < 3000 ? -1 : 0;
}

static int
sig_mp3(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	if (starts(p, n, "ID3", 3))
		return 1;
	return mp3_chain(p, n, 0, 1) == 1;
}

static int
sig_bzip2(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	return starts(p, n, "BZh", 3) && n >= 4 && p[3] >= '1' && p[3] <= '9';
}

static int
sig_zstd(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	/* a frame, or a skippable frame (magic 0x184d2a50..5f) */
	return starts(p, n, "\x28\xb5\x2f\xfd", 4) ||
	    (n >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18);
}

/* The checksum of a tar header block: the sum of its bytes, the checksum field counted as spaces. */
static int
tar_checksum_ok(const unsigned char *p)
{
	uint32_t sum = 0, want = 0;
	int i, digits = 0;

	for (i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : p[i];
	for (i = 148; i < 156 && (p[i] == ' ' || p[i] == '\0') && digits == 0; i++)
		;
	for (; i < 156 && p[i] >= '0' && p[i] <= '7'; i++, digits++)
		want = want * 8 + (uint32_t)(p[i] - '0');
	return digits > 0 && want == sum;
}

static int
sig_tar(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	if (n < 512)
		return 0;
	return memcmp(p + 257, "ustar", 5) == 0 || tar_checksum_ok(p);
}

/* Packets whose length may be left open (partial or indeterminate): the data packets. */
static int
pgp_streamable(int tag)
{
	return tag == 8 || tag == 9 || tag == 11 || tag == 18 || tag == 20;
}

/* OpenPGP packet header at p: tag (0 invalid), header length and body length (-1 partial or indeterminate). */
static int
pgp_packet(const unsigned char *p, size_t n, size_t *hlen, int64_t *blen)
{
	int tag, lt;

	if (n < 2 || !(p[0] & 0x80))
		return 0;
	if (p[0] & 0x40) {
		tag = p[0] & 0x3f;
		if (tag < 1 || tag > 21)
			return 0;
		if (p[1] < 192) {
			*hlen = 2;
			*blen = p[1];
		} else if (p[1] < 224) {
			if (n < 3)
				return 0;
			*hlen = 3;
			*blen = ((int64_t)(p[1] - 192) << 8) + p[2] + 192;
		} else if (p[1] == 255) {
			if (n < 6)
				return 0;
			*hlen = 6;
			*blen = be32(p + 2);
		} else {
			/* a partial length: data packets only, and the first part is at least 512 bytes */
			if (!pgp_streamable(tag) || (p[1] & 0x1f) < 9)
				return 0;
			*hlen = 2;
			*blen = -1;
		}
		return tag;
	}
	tag = (p[0] >> 2) & 0x0f;
	lt = p[0] & 3;
	if (tag < 1 || tag > 14 || (lt == 3 && !pgp_streamable(tag)))
		return 0;
	*hlen = lt == 3 ? 1 : (size_t)1 + (1u << lt);
	if (n < *hlen)
		return 0;
	*blen = lt == 0 ? p[1] : lt == 1 ? (int64_t)be16(p + 1) : lt == 2 ? (int64_t)be32(p + 1) : -1;
	return tag;
}

/* Whether the body of the first OpenPGP packet makes sense for its tag. */
static int
pgp_body_ok(int tag, const unsigned char *b, size_t n)
{
	if (n == 0)
		return 1;
	switch (tag) {
	case 1:		/* public-key encrypted session key */
		return b[0] == 3 || b[0] == 6;
	case 2:		/* signature */
		return b[0] >= 3 && b[0] <= 6;
	case 3:		/* symmetric-key encrypted session key */
		return (b[0] == 4 || b[0] == 5 || b[0] == 6) && (n < 2 || (b[1] >= 1 && b[1] <= 13));
	case 4:		/* one-pass signature */
		return b[0] == 3 || b[0] == 6;
	case 5: case 6: case 7: case 14:	/* keys */
		return b[0] >= 2 && b[0] <= 6;
	case 8:		/* compressed data */
		return b[0] <= 3;
	case 9:		/* symmetrically encrypted data */
		return 1;
	case 10:	/* marker */
		return n < 3 || memcmp(b, "PGP", 3) == 0;
	case 11:	/* literal data */
		return b[0] == 'b' || b[0] == 't' || b[0] == 'u' || b[0] == 'l' || b[0] == '1' || b[0] == 'm';
	case 18:	/* integrity protected data */
		return b[0] == 1 || b[0] == 2;
	case 20:	/* AEAD encrypted data */
		return b[0] == 1;
	default:
		return 1;
	}
}

static int
sig_pgp(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, hlen;
	int64_t blen;
	int tag;

	if (starts(p, n, "-----BEGIN PGP ", 15))
		return 1;
	if ((tag = pgp_packet(p, n, &hlen, &blen)) == 0 || tag == 9 || tag == 12 || tag == 13 ||
	    tag == 17 || tag == 19 || tag == 21)
		return 0;
	if (blen >= 0 && (uint64_t)blen + hlen > s->size)
		return 0;
	return hlen < n && pgp_body_ok(tag, p + hlen, n - hlen);
}

static int
sig_kdbx(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	return n >= 8 && memcmp(p, "\x03\xd9\xa2\x9a", 4) == 0 && p[4] >= 0x65 && p[4] <= 0x67 &&
	    memcmp(p + 5, "\xfb\x4b\xb5", 3) == 0;
}

static int
sig_iso(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	return has(n, 0x8001, 5) && memcmp(p + 0x8001, "CD001", 5) == 0;
}

static int
sig_dwg(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	return starts(p, n, "AC1", 3) && n >= 6 && is_digit(p[3]) && is_digit(p[4]) && is_digit(p[5]);
}

/* ASN.1 DER (certificates, PKCS#12 keys, signatures): one SEQUENCE whose length is the file's. */
static int
sig_der(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;
	uint64_t len;

	if (n < 4 || p[0] != 0x30)
		return 0;
	if (p[1] < 0x80)
		len = 2 + (uint64_t)p[1];
	else if (p[1] == 0x81)
		len = 3 + (uint64_t)p[2];
	else if (p[1] == 0x82)
		len = 4 + (uint64_t)be16(p + 2);
	else if (p[1] == 0x83 && n >= 5)
		len = 5 + ((uint64_t)p[2] << 16 | (uint64_t)p[3] << 8 | p[4]);
	else
		return 0;
	return len == s->size;
}

static int
sig_gitpack(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	return starts(p, n, "PACK\0\0\0", 7) && n >= 8 && (p[7] == 2 || p[7] == 3);
}

/*
 * A zlib stream (git's loose objects, PDF and PNG pieces saved alone): the
 * two header bytes say deflate with a checksum that holds, no preset
 * dictionary, and the stream behind them decodes.
 */
static int
zlib_stream(const unsigned char *p, size_t n)
{
	return n >= 8 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && !(p[1] & 0x20) && be16(p) % 31 == 0 &&
	    deflate_plausible(p + 2, n - 2);
}

/* Other compressed formats: lz4, lzip, compress, lzma, snappy, cabinet, zlib. */
static int
sig_packed(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	return zlib_stream(p, n) || starts(p, n, "\x04\x22\x4d\x18", 4) || starts(p, n, "LZIP", 4) || starts(p, n, "\x1f\x9d", 2) ||
	    starts(p, n, "\xff\x06\0\0sNaPpY", 10) || starts(p, n, "MSCF\0\0\0\0", 8) ||
	    (n >= 13 && p[0] == 0x5d && p[1] == 0 && p[2] == 0 && p[5] == 0xff && p[12] == 0xff);
}

/* Programs and other machine files that no extension of ours promises, but that are no ciphertext. */
static int
sig_binary(const struct samples *s)
{
	static const char *const magic[] = {
		"\177ELF", "BC\xc0\xde", "\xca\xfe\xba\xbe", "\xfe\xed\xfe\xed", "\0asm", "\xcf\xfa\xed\xfe",
		"\xce\xfa\xed\xfe", "DIRC", "JM\1\0",
	};
	size_t i;

	for (i = 0; i < nitems(magic); i++)
		if (starts(s->part[HEAD].p, s->part[HEAD].n, magic[i], 4))
			return 1;
	return 0;
}

/*
 * Structure checks: the signature survived, does what follows still make
 * sense? Each returns NULL, or why not (the file becomes CV_PARTIAL). They
 * look only at cheap fixed fields, checksums and the file's end, and stay
 * quiet whenever the samples do not reach what they would check.
 */

static const char *
check_zip(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, off = 0, i, data, avail;
	uint32_t ver, flags, method, csize, nlen, xlen, clen;

	if (starts(p, n, "PK\5\6", 4))
		return NULL;
	if (starts(p, n, "PK\7\10", 4))
		off = 4;
	if (has(n, off, 30)) {
		ver = le16(p + off + 4);
		flags = le16(p + off + 6);
		method = le16(p + off + 8);
		csize = le32(p + off + 18);
		nlen = le16(p + off + 26);
		xlen = le16(p + off + 28);
		if ((ver & 0xff) > 100 || (flags & 0xc780) != 0 || (method > 20 && (method < 93 || method > 99)))
			return "its first entry header is garbled";
		if (nlen == 0 || nlen > 1024)
			return "its first entry name length is garbled";
		if (csize != 0xffffffff && csize > s->size)
			return "its first entry claims more bytes than the file has";
		for (i = 0; i < nlen && off + 30 + i < n; i++)
			if (p[off + 30 + i] < 0x20 || p[off + 30 + i] == 0x7f)
				return "its first entry name is garbled";
		data = off + 30 + nlen + xlen;
		if (method == 8 && !(flags & 1) && data < n) {
			avail = n - data;
			if (!(flags & 8) && csize < avail)
				avail = csize;
			if (!deflate_plausible(p + data, avail))
				return "its first entry is not valid deflate data";
		}
	}
	if (s->endlen >= 22) {
		for (i = s->endlen - 22 + 1; i-- > 0;) {
			if (memcmp(s->end + i, "PK\5\6", 4) != 0)
				continue;
			clen = le16(s->end + i + 20);
			if (i + 22 + clen <= s->endlen)
				return NULL;
		}
		return "there is no end of central directory at its end";
	}
	return NULL;
}

/* The directory entry name of an encrypted OOXML package, UTF-16LE (MS-OFFCRYPTO 2.3.4.4). */
static const unsigned char encrypted_package[] = {
	'E', 0, 'n', 0, 'c', 0, 'r', 0, 'y', 0, 'p', 0, 't', 0, 'e', 0, 'd', 0, 'P', 0, 'a', 0, 'c', 0, 'k', 0,
	'a', 0, 'g', 0, 'e', 0,
};

static const char *
check_ole2(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;
	uint32_t major, shift;

	if (n < 48)
		return NULL;
	major = le16(p + 26);
	shift = le16(p + 30);
	if (le16(p + 28) != 0xfffe || !((major == 3 && shift == 9) || (major == 4 && shift == 12)) ||
	    le16(p + 32) != 6 || le16(p + 34) != 0 || le32(p + 36) != 0)
		return "its compound file header is garbled";
	/*
	 * A password-protected Office document is an EncryptedPackage stream of
	 * ciphertext beside its EncryptionInfo: its directory, written before or
	 * after the stream, names it. Otherwise streams, directory and
	 * allocation tables are never all ciphertext.
	 */
	if (memmem(p, n, encrypted_package, sizeof(encrypted_package)) != NULL ||
	    (s->endlen > 0 && memmem(s->end, s->endlen, encrypted_package, sizeof(encrypted_package)) != NULL))
		return NULL;
	if (part_strict_random(&s->part[MID]) && part_strict_random(&s->part[TAIL]))
		return "its middle and end are random";
	return NULL;
}

/* "startxref", a number, "%%EOF": what every complete PDF ends with. */
static const char *
check_pdf(const struct samples *s)
{
	const unsigned char *e = s->end, *q, *hit = NULL;
	size_t n = s->endlen, i;

	if (n == 0)
		return NULL;
	for (q = e; (q = memmem(q, n - (size_t)(q - e), "startxref", 9)) != NULL; q += 9)
		hit = q;
	if (hit != NULL) {
		i = (size_t)(hit - e) + 9;
		while (i < n && is_space(e[i]))
			i++;
		if (i < n && is_digit(e[i])) {
			while (i < n && is_digit(e[i]))
				i++;
			while (i < n && is_space(e[i]))
				i++;
			if (has(n, i, 5) && memcmp(e + i, "%%EOF", 5) == 0)
				return NULL;
		}
	}
	return "there is no startxref/%%EOF trailer at its end";
}

/*
 * In entropy-coded JPEG data 0xff is followed only by 0x00 (stuffing), 0xff
 * (fill), a restart or another marker; in random bytes three times in four
 * by something else.
 */
static int
jpeg_noise(const struct part *pt)
{
	const unsigned char *q, *end = pt->p + pt->n;
	size_t ff = 0, bad = 0;

	if (pt->n < 1024)
		return 0;
	for (q = pt->p; q + 1 < end && (q = memchr(q, 0xff, (size_t)(end - q - 1))) != NULL; q++) {
		ff++;
		if (q[1] != 0x00 && q[1] != 0xff && q[1] < 0xc0)
			bad++;
	}
	return bad >= 4 && bad * 4 >= ff;
}

static const char *
check_jpeg(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p, *e = s->end, *q;
	size_t n = s->part[HEAD].n, pos = 2, i, from;
	unsigned m;

	for (;;) {
		if (pos >= n)
			break;
		if (p[pos] != 0xff)
			return "its marker segments are garbled";
		while (pos < n && p[pos] == 0xff)
			pos++;
		if (pos >= n)
			break;
		m = p[pos];
		if (m == 0xda)
			break;		/* start of scan: the header is complete */
		if (m < 0xc0 || m == 0xd8 || m == 0xd9 || (m >= 0xd0 && m <= 0xd7))
			return "its marker segments are garbled";
		if (!has(n, pos + 1, 2))
			break;
		if (be16(p + pos + 1) < 2)
			return "its marker segments are garbled";
		pos += 1 + be16(p + pos + 1);
	}
	/* Phones append a video or maker data after the image: its header says so. */
	if (memmem(p, n, "MotionPhoto", 11) != NULL || memmem(p, n, "MicroVideo", 10) != NULL)
		return NULL;
	if (jpeg_noise(&s->part[MID]))
		return "its scan data in the middle is random";
	if (s->endlen < 2)
		return NULL;
	for (i = s->endlen - 1; i-- > 0;) {
		if (e[i] != 0xff || e[i + 1] != 0xd9)
			continue;
		/* Before the end of image lies entropy-coded data: 0xff only as stuffing, fill or a marker. */
		from = i > 256 ? i - 256 : 0;
		for (q = e + from; (q = memchr(q, 0xff, (size_t)(e + i - q))) != NULL; q++)
			if (q[1] != 0x00 && q[1] != 0xff && q[1] < 0xc0)
				break;
		if (q == NULL)
			return NULL;
	}
	return "there is no end-of-image marker at its end";
}

static const char *
check_png(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, pos = 8;
	uint32_t len;
	int first = 1, i;

	while (has(n, pos, 8)) {
		len = be32(p + pos);
		for (i = 4; i < 8; i++)
			if (!((p[pos + i] | 0x20) >= 'a' && (p[pos + i] | 0x20) <= 'z'))
				return "its chunks are garbled";
		if (len > 0x7fffffff || (first && (len != 13 || memcmp(p + pos + 4, "IHDR", 4) != 0)))
			return "its chunks are garbled";
		if (first && has(n, pos + 8, 13) && (p[pos + 16] == 0 || p[pos + 16] > 16 ||
		    p[pos + 17] > 6 || p[pos + 18] != 0 || p[pos + 19] != 0 || p[pos + 20] > 1))
			return "its IHDR chunk is garbled";
		if (has(n, pos + 4, (size_t)len + 8) &&
		    crc32_of(p + pos + 4, (size_t)len + 4) != be32(p + pos + 8 + len))
			return "a chunk checksum does not match";
		first = 0;
		pos += 12 + (size_t)len;
	}
	if (s->endlen >= 12 && memmem(s->end, s->endlen, "IEND\xae\x42\x60\x82", 8) == NULL)
		return "there is no IEND chunk at its end";
	return NULL;
}

static const char *
check_gif(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, pos;
	unsigned b;

	if (n < 13)
		return NULL;
	if (le16(p + 6) == 0 || le16(p + 8) == 0)
		return "its screen descriptor is garbled";
	pos = 13 + ((p[10] & 0x80) ? 3u << ((p[10] & 7) + 1) : 0);
	while (pos < n) {
		b = p[pos];
		if (b == 0x3b)
			break;
		if (b == 0x21) {
			pos += 2;
		} else if (b == 0x2c) {
			if (!has(n, pos, 10))
				break;
			pos += 10 + ((p[pos + 9] & 0x80) ? 3u << ((p[pos + 9] & 7) + 1) : 0);
			if (pos >= n)
				break;
			if (p[pos] < 2 || p[pos] > 12)
				return "its image data is garbled";
			pos++;
		} else
			return "its blocks are garbled";
		/* sub-blocks up to the zero terminator */
		while (pos < n && p[pos] != 0)
			pos += 1 + (size_t)p[pos];
		pos++;
	}
	/* a few writers stop after the last block terminator without the trailer */
	if (s->endlen > 0 && s->end[s->endlen - 1] != 0x3b && s->end[s->endlen - 1] != 0x00)
		return "there is no trailer at its end";
	return NULL;
}

static const char *
check_bmp(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;
	uint32_t dib, bpp, comp;

	if (n < 30)
		return NULL;
	dib = le32(p + 14);
	if ((dib != 12 && dib != 40 && dib != 52 && dib != 56 && dib != 64 && dib != 108 && dib != 124) ||
	    le32(p + 10) < 14 + dib || le32(p + 10) > s->size)
		return "its header is garbled";
	if (dib == 12)
		return NULL;
	bpp = le16(p + 28);
	if (le16(p + 26) != 1 || (bpp != 1 && bpp != 2 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 &&
	    bpp != 32))
		return "its header is garbled";
	if (n < 34)
		return NULL;
	comp = le32(p + 30);
	/* Uncompressed pixels are never as even as ciphertext. */
	if ((comp == 0 || comp == 3) && bpp >= 8 &&
	    (part_strict_random(&s->part[MID]) || part_strict_random(&s->part[TAIL])))
		return "its pixel data is random";
	return NULL;
}

static const char *
check_tiff(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, i, count;
	uint32_t (*r16)(const unsigned char *), (*r32)(const unsigned char *), ifd, tag, prev = 0, type;

	if (n < 8 || p[2] == '+' || p[3] == '+')
		return NULL;	/* BigTIFF */
	r16 = p[0] == 'I' ? le16 : be16;
	r32 = p[0] == 'I' ? le32 : be32;
	ifd = r32(p + 4);
	if (ifd < 8 || ifd >= s->size)
		return "its first directory offset is garbled";
	if (!has(n, ifd, 2))
		return NULL;
	count = r16(p + ifd);
	if (count == 0 || count > 4096)
		return "its first directory is garbled";
	for (i = 0; i < count && has(n, ifd + 2 + 12 * i, 12); i++) {
		tag = r16(p + ifd + 2 + 12 * i);
		type = r16(p + ifd + 4 + 12 * i);
		if ((i > 0 && tag < prev) || type == 0 || type > 18)
			return "its first directory is garbled";
		/* Compression 1: raw pixels, never as even as ciphertext */
		if (tag == 259 && type == 3 && r16(p + ifd + 10 + 12 * i) == 1 &&
		    (part_strict_random(&s->part[MID]) || part_strict_random(&s->part[TAIL])))
			return "its pixel data is random";
		prev = tag;
	}
	return NULL;
}

/* RIFF: the size in the header cannot exceed the file, and chunk ids are printable. */
static const char *
check_riff(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	if (n < 12)
		return NULL;
	if ((uint64_t)le32(p + 4) + 8 > s->size + 1 || le32(p + 4) < 4)
		return "its RIFF size is garbled";
	if (n >= 20 && (!is_fourcc(p + 12) || (uint64_t)le32(p + 16) + 20 > s->size + 1))
		return "its first chunk is garbled";
	return NULL;
}

static const char *
check_webp(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;
	const char *why;

	if ((why = check_riff(s)) != NULL || n < 30)
		return why;
	if (memcmp(p + 12, "VP8 ", 4) == 0 && memcmp(p + 23, "\x9d\x01\x2a", 3) != 0)
		return "its VP8 frame header is garbled";
	if (memcmp(p + 12, "VP8L", 4) == 0 && p[20] != 0x2f)
		return "its VP8L header is garbled";
	if (memcmp(p + 12, "VP8X", 4) == 0 && (le32(p + 16) < 10 || (p[20] & 0xc1) != 0 || p[21] != 0 ||
	    p[22] != 0 || p[23] != 0))
		return "its VP8X header is garbled";
	return NULL;
}

static const char *
check_avi(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;
	const char *why;

	if ((why = check_riff(s)) != NULL || n < 28)
		return why;
	if (memcmp(p + 12, "LIST", 4) == 0 && (memcmp(p + 20, "hdrl", 4) != 0 || memcmp(p + 24, "avih", 4) != 0))
		return "its header list is garbled";
	return NULL;
}

static const char *
check_wav(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, pos = 12;
	uint32_t len, tag, ch, rate, align, bits;
	const char *why;

	if ((why = check_riff(s)) != NULL)
		return why;
	while (has(n, pos, 8)) {
		if (!is_fourcc(p + pos))
			return "its chunks are garbled";
		len = le32(p + pos + 4);
		if (memcmp(p + pos, "fmt ", 4) == 0) {
			if (len < 14 || len > 64)
				return "its format chunk is garbled";
			if (!has(n, pos + 8, 16))
				return NULL;
			tag = le16(p + pos + 8);
			ch = le16(p + pos + 10);
			rate = le32(p + pos + 12);
			align = le16(p + pos + 20);
			bits = le16(p + pos + 22);
			if (ch == 0 || ch > 64 || rate < 1000 || rate > 1536000 || align == 0)
				return "its format chunk is garbled";
			if (tag == 1 && (bits == 0 || bits > 64 || align != ch * ((bits + 7) / 8) ||
			    le32(p + pos + 16) != rate * align))
				return "its format chunk is garbled";
			/* PCM samples: never as even as ciphertext */
			if (tag == 1 && (part_strict_random(&s->part[MID]) || part_strict_random(&s->part[TAIL])))
				return "its audio samples are random";
		}
		if (memcmp(p + pos, "data", 4) == 0)
			break;
		pos += 8 + (size_t)len + (len & 1);
	}
	return NULL;
}

/* ISO base media: the top-level boxes chain from the start; a box may not run past the end. */
static const char *
check_mp4(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, i;
	uint64_t pos = 0, len;

	if (has(n, 0, 16) && memcmp(p + 4, "ftyp", 4) == 0) {
		len = be32(p);
		if (len < 16 || len > 4096 || len % 4 != 0)
			return "its ftyp box is garbled";
		for (i = 8; i < len && i + 4 <= n; i += 4)
			if (i != 12 && !is_fourcc(p + i))
				return "its ftyp box is garbled";
	}
	while (pos + 8 <= n) {
		len = be32(p + pos);
		if (!is_fourcc(p + pos + 4))
			return "its boxes are garbled";
		if (len == 1) {
			if (pos + 16 > n)
				break;
			len = (uint64_t)be32(p + pos + 8) << 32 | be32(p + pos + 12);
			if (len < 16)
				return "its boxes are garbled";
		} else if (len == 0)
			break;		/* to the end of the file */
		else if (len < 8)
			return "its boxes are garbled";
		if (len > s->size - pos)
			return "a box runs past the end of the file";
		pos += len;
	}
	return NULL;
}

static const char *
check_mkv(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;

	if (n < 64)
		return NULL;
	if (memmem(p, 64, "matroska", 8) == NULL && memmem(p, 64, "webm", 4) == NULL)
		return "its EBML header has no document type";
	return NULL;
}

static const char *
check_mp3(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p, *e = s->end;
	size_t n = s->part[HEAD].n, pos, end, hlen, fsize, i, ne = s->endlen;
	unsigned ver;

	if (starts(p, n, "ID3", 3) && n >= 10) {
		ver = p[3];
		if (ver < 2 || ver > 4 || p[4] == 0xff || (p[6] | p[7] | p[8] | p[9]) & 0x80)
			return "its ID3 header is garbled";
		end = 10 + ((size_t)p[6] << 21 | (size_t)p[7] << 14 | (size_t)p[8] << 7 | p[9]);
		pos = 10;
		if ((p[5] & 0x40) && ver >= 3 && has(n, pos, 4))
			pos += ver == 3 ? 4 + be32(p + pos) : ((size_t)p[pos] << 21 | (size_t)p[pos + 1] << 14 |
			    (size_t)p[pos + 2] << 7 | p[pos + 3]);
		hlen = ver == 2 ? 6 : 10;
		while (pos + hlen <= end && pos + hlen <= n) {
			if (p[pos] == 0) {
				for (i = pos; i < end && i < n; i++)
					if (p[i] != 0)
						return "its ID3 padding is garbled";
				break;
			}
			for (i = 0; i < (ver == 2 ? 3u : 4u); i++)
				if (!((p[pos + i] >= 'A' && p[pos + i] <= 'Z') || is_digit(p[pos + i])))
					return "its ID3 frames are garbled";
			if (ver == 2)
				fsize = (size_t)p[pos + 3] << 16 | (size_t)p[pos + 4] << 8 | p[pos + 5];
			else if (ver == 4 && !((p[pos + 4] | p[pos + 5] | p[pos + 6] | p[pos + 7]) & 0x80))
				fsize = (size_t)p[pos + 4] << 21 | (size_t)p[pos + 5] << 14 |
				    (size_t)p[pos + 6] << 7 | p[pos + 7];
			else
				fsize = be32(p + pos + 4);
			if (fsize > end - pos - hlen)
				return "its ID3 frames are garbled";
			pos += hlen + fsize;
		}
		if ((p[5] & 0x10) && ver == 4)
			end += 10;
		/* audio follows the tag, maybe after a little padding */
		if (mp3_chain(p, n, end, end + 512) == 0)
			return "no audio frames follow its ID3 tag";
	} else if (mp3_chain(p, n, 0, 1) == 0)
		return "its first audio frames are garbled";
	if (ne == 0 || mp3_chain(e, ne, 0, ne) != 0 || memmem(e, ne, "APETAGEX", 8) != NULL ||
	    memmem(e, ne, "LYRICS200", 9) != NULL || (ne >= 128 && memcmp(e + ne - 128, "TAG", 3) == 0) ||
	    (ne >= 10 && memcmp(e + ne - 10, "3DI", 3) == 0))
		return NULL;
	return "there are no audio frames at its end";
}

static const char *
check_flac(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, pos = 4;
	unsigned type;
	uint32_t len;

	if (n < 42)
		return NULL;
	if ((p[4] & 0x7f) != 0 || (p[5] << 16 | p[6] << 8 | p[7]) != 34 || be16(p + 8) < 16 ||
	    be16(p + 10) < be16(p + 8))
		return "its stream info is garbled";
	while (has(n, pos, 4)) {
		type = p[pos] & 0x7f;
		len = (uint32_t)p[pos + 1] << 16 | (uint32_t)p[pos + 2] << 8 | p[pos + 3];
		if (type > 6)
			return "its metadata blocks are garbled";
		if (len > s->size)
			return "its metadata blocks are garbled";
		if (p[pos] & 0x80) {
			pos += 4 + (size_t)len;
			if (has(n, pos, 2) && (p[pos] != 0xff || (p[pos + 1] & 0xfe) != 0xf8))
				return "no audio frame follows its metadata";
			break;
		}
		pos += 4 + (size_t)len;
	}
	return NULL;
}

static const char *
check_ogg(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, len, i;
	uint32_t crc = 0;
	unsigned b;

	if (n < 27)
		return NULL;
	if ((p[5] & ~7) != 0 || !(p[5] & 2))
		return "its first page header is garbled";
	len = 27 + (size_t)p[26];
	if (!has(n, 0, len))
		return NULL;
	for (i = 0; i < p[26]; i++)
		len += p[27 + i];
	if (!has(n, 0, len))
		return NULL;
	for (i = 0; i < len; i++) {
		b = (i >= 22 && i < 26) ? 0 : p[i];
		crc ^= (uint32_t)b << 24;
		crc = (crc << 4) ^ ogg_nib[crc >> 28];
		crc = (crc << 4) ^ ogg_nib[crc >> 28];
	}
	if (crc != le32(p + 22))
		return "its first page checksum does not match";
	return NULL;
}

static const char *
check_7z(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p, *e = s->end;
	size_t n = s->part[HEAD].n;
	uint64_t off, len;

	if (n < 32)
		return NULL;
	if (p[6] != 0 || crc32_of(p + 12, 20) != le32(p + 8))
		return "its start header checksum does not match";
	off = le64(p + 12);
	len = le64(p + 20);
	if (off > s->size || len > s->size || 32 + off + len > s->size)
		return "its start header points past the end of the file";
	/* the header database is the last thing in the archive */
	if (32 + off + len == s->size && len > 0 && len <= s->endlen &&
	    crc32_of(e + s->endlen - len, (size_t)len) != le32(p + 28))
		return "its header database at the end is garbled";
	return NULL;
}

static const char *
check_gzip(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p, *q;
	size_t n = s->part[HEAD].n, pos = 10, i;
	unsigned flg;
	int field;

	if (n < 10)
		return NULL;
	flg = p[3];
	if (flg & 0xe0)
		return "its header is garbled";
	if (flg & 4) {
		if (!has(n, pos, 2))
			return NULL;
		pos += 2 + le16(p + pos);
	}
	for (field = 8; field <= 16; field <<= 1) {
		if (!(flg & field) || pos >= n)
			continue;
		/* name and comment: NUL-terminated text */
		if ((q = memchr(p + pos, 0, n - pos)) == NULL)
			return n - pos > 1024 ? "its header is garbled" : NULL;
		for (i = pos; p + i < q; i++)
			if (p[i] < 0x20 && !(field == 16 && (p[i] == '\n' || p[i] == '\r' || p[i] == '\t')))
				return "its header is garbled";
		pos = (size_t)(q - p) + 1;
	}
	if (flg & 2) {
		if (!has(n, pos, 2))
			return NULL;
		if ((crc32_of(p, pos) & 0xffff) != le16(p + pos))
			return "its header checksum does not match";
		pos += 2;
	}
	if (pos < n && !deflate_plausible(p + pos, n - pos))
		return "its data is not valid deflate";
	/* The trailer holds the uncompressed size: deflate expands at most 1032 times. */
	if (s->endlen >= 8 && s->size < (UINT64_C(1) << 32) / 1032 &&
	    le32(s->end + s->endlen - 4) > s->size * 1032)
		return "its trailer is garbled";
	return NULL;
}

/* The end-of-stream magic (0x177245385090) ends 32 to 39 bits before the end (CRC, then padding to a byte). */
static const char *
check_bzip2(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p, *e = s->end;
	size_t n = s->part[HEAD].n, ne = s->endlen;
	uint64_t v = 0;
	int pad, i;

	if (n >= 10 && memcmp(p + 4, "1AY&SY", 6) != 0 && memcmp(p + 4, "\x17\x72\x45\x38\x50\x90", 6) != 0)
		return "its first block header is garbled";
	if (ne < 11)
		return NULL;
	/* bits 32..87 counted from the end, in the low 56 bits of v */
	for (i = 11; i > 4; i--)
		v = v << 8 | e[ne - i];
	for (pad = 0; pad < 8; pad++)
		if (((v >> pad) & ((UINT64_C(1) << 48) - 1)) == UINT64_C(0x177245385090))
			return NULL;
	return "there is no end-of-stream marker at its end";
}

static const char *
check_xz(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p, *e = s->end;
	size_t n = s->part[HEAD].n, ne = s->endlen, hsize;

	if (n < 12)
		return NULL;
	if (p[6] != 0 || (p[7] & 0xf0) || crc32_of(p + 6, 2) != le32(p + 8))
		return "its stream header is garbled";
	if (n > 12 && p[12] != 0) {
		hsize = ((size_t)p[12] + 1) * 4;
		if (has(n, 12, hsize) && crc32_of(p + 12, hsize - 4) != le32(p + 12 + hsize - 4))
			return "its first block header is garbled";
	}
	while (ne >= 16 && le32(e + ne - 4) == 0)
		ne -= 4;	/* stream padding */
	if (ne >= 12 && (memcmp(e + ne - 2, "YZ", 2) != 0 ||
	    memcmp(e + ne - 4, p + 6, 2) != 0 || crc32_of(e + ne - 8, 6) != le32(e + ne - 12)))
		return "its stream footer is garbled";
	return NULL;
}

static const char *
check_zstd(const struct samples *s)
{
	static const unsigned did_size[4] = { 0, 1, 2, 4 }, fcs_size[4] = { 0, 2, 4, 8 };
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, pos;
	unsigned fhd, single, did, fcs;
	uint32_t bh;

	if (n < 6 || p[0] != 0x28)
		return NULL;	/* a skippable frame: anything may follow */
	fhd = p[4];
	if (fhd & 0x08)
		return "its frame header is garbled";
	single = (fhd >> 5) & 1;
	did = did_size[fhd & 3];
	fcs = fcs_size[fhd >> 6];
	if (fcs == 0 && single)
		fcs = 1;
	pos = 5 + (single ? 0 : 1) + did + fcs;
	if (!has(n, pos, 3))
		return NULL;
	bh = (uint32_t)p[pos] | (uint32_t)p[pos + 1] << 8 | (uint32_t)p[pos + 2] << 16;
	if (((bh >> 1) & 3) == 3 || (bh >> 3) > 128 * 1024)
		return "its first block header is garbled";
	return NULL;
}

static const char *
check_rar(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, i, hsize = 0;
	unsigned shift = 0;

	if (p[6] == 0) {
		/* RAR 1.5-4: the main header after the 7-byte marker, CRC16 = low half of CRC-32 */
		if (!has(n, 7, 7))
			return NULL;
		if (p[9] != 0x73)
			return "its main header is garbled";
		hsize = le16(p + 12);
		if (hsize < 7 || !has(n, 7, hsize))
			return hsize < 7 ? "its main header is garbled" : NULL;
		if ((crc32_of(p + 9, hsize - 2) & 0xffff) != le16(p + 7))
			return "its main header checksum does not match";
		return NULL;
	}
	/* RAR 5: CRC-32, then a variable-length header size, over which (and the header) the CRC runs */
	for (i = 12; i < n && i < 12 + 3; i++) {
		hsize |= (size_t)(p[i] & 0x7f) << shift;
		shift += 7;
		if (!(p[i] & 0x80))
			break;
	}
	if (i >= n)
		return NULL;
	if (i == 12 + 3 || hsize == 0 || hsize > 2 * 1024 * 1024)
		return "its first header is garbled";
	if (!has(n, 12, i + 1 - 12 + hsize))
		return NULL;
	if (crc32_of(p + 12, i + 1 - 12 + hsize) != le32(p + 8))
		return "its first header checksum does not match";
	return NULL;
}

static const char *
check_tar(const struct samples *s)
{
	const unsigned char *e = s->end;
	size_t i, ne = s->endlen;

	if (s->part[HEAD].n >= 512 && !tar_checksum_ok(s->part[HEAD].p))
		return "its first header checksum does not match";
	/* an archive ends with at least two zero blocks */
	if (ne >= 1024 && s->size >= 2048) {
		for (i = ne - 1024; i < ne; i++)
			if (e[i] != 0)
				return "it does not end with zero blocks";
	}
	return NULL;
}

/* Text framing: every sample must be text (armored OpenPGP, RTF). */
static const char *
check_all_text(const struct samples *s)
{
	int i;

	for (i = HEAD; i <= TAIL; i++)
		if (!part_text(s, i) && !part_blank(&s->part[i]))
			return i == HEAD ? "its start is not text" : i == MID ? "its middle is not text" :
			    "its end is not text";
	return NULL;
}

static const char *
check_pgp(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, pos = 0, hlen;
	int64_t blen;
	int tag, k;

	if (starts(p, n, "-----BEGIN PGP ", 15))
		return check_all_text(s);
	/* the first packets: each header and the start of each body must make sense */
	for (k = 0; k < 4 && pos < n; k++) {
		if ((tag = pgp_packet(p + pos, n - pos, &hlen, &blen)) == 0)
			return "its packets are garbled";
		if (pos + hlen < n && !pgp_body_ok(tag, p + pos + hlen, n - pos - hlen))
			return "its packets are garbled";
		if (blen < 0)
			break;
		if ((uint64_t)pos + hlen + (uint64_t)blen > s->size)
			return "a packet runs past the end of the file";
		pos += hlen + (size_t)blen;
	}
	return NULL;
}

/*
 * KeePass 2: type-length-value header fields after the version. The cipher
 * is one of a few known UUIDs; behind the header everything is encrypted.
 */
static const char *
check_kdbx(const struct samples *s)
{
	static const unsigned char ciphers[3][16] = {
		{ 0x31, 0xc1, 0xf2, 0xe6, 0xbf, 0x71, 0x43, 0x50, 0xbe, 0x58, 0x05, 0x21, 0x6a, 0xfc, 0x5a, 0xff },
		{ 0xd6, 0x03, 0x8a, 0x2b, 0x8b, 0x6f, 0x4c, 0xb5, 0xa5, 0x24, 0x33, 0x9a, 0x31, 0xdb, 0xb5, 0x9a },
		{ 0xad, 0x68, 0xf2, 0x9f, 0x57, 0x6f, 0x4b, 0xb9, 0xa3, 0x6a, 0xd4, 0x7a, 0xf9, 0x65, 0x34, 0x6c },
	};
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n, pos = 12, szlen, data;
	uint32_t major, len, id;
	int k;

	if (n < 12 || p[4] != 0x67)
		return NULL;	/* KeePass 1 has a fixed header */
	major = le16(p + 10);
	if (major == 0 || major > 4)
		return "its version is garbled";
	szlen = major >= 4 ? 4 : 2;
	for (k = 0; k < 32 && has(n, pos, 1 + szlen); k++) {
		id = p[pos];
		len = szlen == 4 ? le32(p + pos + 1) : le16(p + pos + 1);
		data = pos + 1 + szlen;
		if (id > 12 || len > (1u << 20))
			return "its header fields are garbled";
		if (id == 2 && (len != 16 || (has(n, data, 16) && memcmp(p + data, ciphers[0], 16) != 0 &&
		    memcmp(p + data, ciphers[1], 16) != 0 && memcmp(p + data, ciphers[2], 16) != 0)))
			return "its cipher field is garbled";
		if (id == 3 && (len != 4 || (has(n, data, 4) && le32(p + data) > 1)))
			return "its compression field is garbled";
		if (id == 0)
			break;
		pos = data + len;
	}
	return NULL;
}

/*
 * age (age-encryption.org/v1): a text header of recipient stanzas ("-> ")
 * closed by the "--- " MAC line, then the payload; armored, all text.
 */
static const char *
check_age(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p, *mac;
	size_t n = s->part[HEAD].n, i;

	if (starts(p, n, "-----BEGIN AGE", 14))
		return check_all_text(s);
	if (n > 22 && !starts(p + 22, n - 22, "-> ", 3))
		return "its header has no recipient stanza";
	mac = memmem(p, n, "\n--- ", 5);
	for (i = 0; i < (mac != NULL ? (size_t)(mac - p) : n); i++)
		if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\n')
			return "its header is garbled";
	return NULL;
}

static const char *
check_sqlite(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	uint32_t page;

	if (s->part[HEAD].n < 100)
		return NULL;
	page = be16(p + 16);
	if (page == 1)
		page = 65536;
	if (page < 512 || (page & (page - 1)) != 0 || p[18] < 1 || p[18] > 2 || p[19] < 1 || p[19] > 2 ||
	    p[21] != 64 || p[22] != 32 || p[23] != 32)
		return "its database header is garbled";
	if (s->size % page != 0)
		return "its size is not a whole number of pages";
	return NULL;
}

static const char *
check_exe(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	size_t n = s->part[HEAD].n;
	uint32_t pe;

	if (n < 64 || le16(p + 0x18) < 0x40)
		return NULL;	/* an old DOS program: no extended header */
	pe = le32(p + 0x3c);
	if (pe < 0x40 || pe >= s->size)
		return "its header is garbled";
	if (has(n, pe, 4) && memcmp(p + pe, "PE\0\0", 4) != 0 && memcmp(p + pe, "NE", 2) != 0 &&
	    memcmp(p + pe, "LE", 2) != 0 && memcmp(p + pe, "LX", 2) != 0)
		return "its header is garbled";
	if (part_strict_random(&s->part[MID]) && part_strict_random(&s->part[TAIL]))
		return "its middle and end are random";
	return NULL;
}

static const char *
check_psd(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;
	uint32_t depth;

	if (s->part[HEAD].n < 26)
		return NULL;
	depth = be16(p + 22);
	if ((be16(p + 4) != 1 && be16(p + 4) != 2) || memcmp(p + 6, "\0\0\0\0\0\0", 6) != 0 ||
	    be16(p + 12) == 0 || be16(p + 12) > 56 || be32(p + 14) == 0 || be32(p + 14) > 300000 ||
	    be32(p + 18) == 0 || be32(p + 18) > 300000 ||
	    (depth != 1 && depth != 8 && depth != 16 && depth != 32) || be16(p + 24) > 9)
		return "its header is garbled";
	return NULL;
}

static const char *
check_lnk(const struct samples *s)
{
	if (s->part[HEAD].n >= 20 &&
	    memcmp(s->part[HEAD].p + 4, "\1\24\2\0\0\0\0\0\300\0\0\0\0\0\0\106", 16) != 0)
		return "its header is garbled";
	return NULL;
}

static const char *
check_pst(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;

	if (s->part[HEAD].n >= 10 && memcmp(p + 8, "SM", 2) != 0 && memcmp(p + 8, "SO", 2) != 0 &&
	    memcmp(p + 8, "SA", 2) != 0)
		return "its header is garbled";
	return NULL;
}

static const char *
check_access(const struct samples *s)
{
	const unsigned char *p = s->part[HEAD].p;

	if (s->part[HEAD].n >= 19 && memcmp(p + 4, "Standard Jet DB", 15) != 0 &&
	    memcmp(p + 4, "Standard ACE DB", 15) != 0)
		return "its header is garbled";
	return NULL;
}

static const struct fmt_info {
	const char *name;
	int container;		/* compressed or encrypted by design: holding one in place of another is suspect */
	int (*sig)(const struct samples *);
	const char *(*check)(const struct samples *);
} fmts[FMT__COUNT] = {
	[FMT_NONE] = { "unknown", 0, NULL, NULL },
	[FMT_TEXT] = { "text", 0, NULL, NULL },
	[FMT_ZIP] = { "zip", 1, NULL, check_zip },
	[FMT_OLE2] = { "ole2", 0, NULL, check_ole2 },
	[FMT_PDF] = { "pdf", 0, sig_pdf, check_pdf },
	[FMT_JPEG] = { "jpeg", 0, NULL, check_jpeg },
	[FMT_PNG] = { "png", 0, NULL, check_png },
	[FMT_GIF] = { "gif", 0, NULL, check_gif },
	[FMT_BMP] = { "bmp", 0, sig_bmp, check_bmp },
	[FMT_TIFF] = { "tiff", 0, NULL, check_tiff },
	[FMT_WEBP] = { "webp", 0, sig_webp, check_webp },
	[FMT_MP4] = { "mp4", 0, sig_mp4, check_mp4 },
	[FMT_MKV] = { "mkv", 0, NULL, check_mkv },
	[FMT_AVI] = { "avi", 0, sig_avi, check_avi },
	[FMT_MP3] = { "mp3", 0, sig_mp3, check_mp3 },
	[FMT_WAV] = { "wav", 0, sig_wav, check_wav },
	[FMT_FLAC] = { "flac", 0, NULL, check_flac },
	[FMT_OGG] = { "ogg", 0, NULL, check_ogg },
	[FMT_7Z] = { "7z", 1, NULL, check_7z },
	[FMT_GZIP] = { "gzip", 1, NULL, check_gzip },
	[FMT_BZIP2] = { "bzip2", 1, sig_bzip2, check_bzip2 },
	[FMT_XZ] = { "xz", 1, NULL, check_xz },
	[FMT_ZSTD] = { "zstd", 1, sig_zstd, check_zstd },
	[FMT_RAR] = { "rar", 1, NULL, check_rar },
	[FMT_TAR] = { "tar", 0, sig_tar, check_tar },
	[FMT_PGP] = { "openpgp", 1, sig_pgp, check_pgp },
	[FMT_KDBX] = { "kdbx", 1, sig_kdbx, check_kdbx },
	[FMT_SQLITE] = { "sqlite", 0, NULL, check_sqlite },
	[FMT_EXE] = { "exe", 0, NULL, check_exe },
	[FMT_RTF] = { "rtf", 0, NULL, check_all_text },
	[FMT_PS] = { "postscript", 0, NULL, NULL },
	[FMT_PSD] = { "psd", 0, NULL, check_psd },
	[FMT_ISO] = { "iso", 0, sig_iso, NULL },
	[FMT_LNK] = { "lnk", 0, NULL, check_lnk },
	[FMT_PST] = { "pst", 0, NULL, check_pst },
	[FMT_ACCESS] = { "access", 0, NULL, check_access },
	[FMT_DWG] = { "dwg", 0, sig_dwg, NULL },
	[FMT_DER] = { "der", 1, sig_der, NULL },
	[FMT_GITPACK] = { "gitpack", 1, sig_gitpack, NULL },
	[FMT_PACKED] = { "compressed", 1, sig_packed, NULL },
	[FMT_AESCRYPT] = { "aescrypt", 1, NULL, NULL },
	[FMT_AGE] = { "age", 1, NULL, check_age },
	[FMT_OPENSSL] = { "openssl", 1, NULL, NULL },
	[FMT_BINARY] = { "binary", 0, sig_binary, NULL },
	[FMT_RANDOM] = { "random", 0, NULL, NULL },
};

/* What an extension promises: the format and the other formats its files legitimately hold. */
#define OOXML	(M(FMT_ZIP) | M(FMT_OLE2))	/* a password-protected Office file is an OLE2 container */
#define IMAGES	(M(FMT_JPEG) | M(FMT_PNG) | M(FMT_GIF) | M(FMT_WEBP) | M(FMT_BMP) | M(FMT_TIFF) | M(FMT_MP4))
#define VIDEO	(M(FMT_MP4) | M(FMT_MKV) | M(FMT_AVI))
#define AUDIO	(M(FMT_MP3) | M(FMT_MP4) | M(FMT_WAV) | M(FMT_FLAC) | M(FMT_OGG))
#define TEXTISH	(M(FMT_TEXT) | M(FMT_ZIP) | M(FMT_OLE2))	/* spreadsheets saved under a text name */

static const struct ext {
	const char *ext;
	enum fmt fmt;
	uint64_t accept;
} exts[] = {
	{ "docx", FMT_ZIP, OOXML }, { "docm", FMT_ZIP, OOXML }, { "dotx", FMT_ZIP, OOXML },
	{ "dotm", FMT_ZIP, OOXML }, { "xlsx", FMT_ZIP, OOXML }, { "xlsm", FMT_ZIP, OOXML },
	{ "xltx", FMT_ZIP, OOXML }, { "xlsb", FMT_ZIP, OOXML }, { "pptx", FMT_ZIP, OOXML },
	{ "pptm", FMT_ZIP, OOXML }, { "ppsx", FMT_ZIP, OOXML }, { "potx", FMT_ZIP, OOXML },
	{ "vsdx", FMT_ZIP, OOXML }, { "odt", FMT_ZIP, 0 }, { "ods", FMT_ZIP, 0 }, { "odp", FMT_ZIP, 0 },
	{ "odg", FMT_ZIP, 0 }, { "odf", FMT_ZIP, 0 }, { "ott", FMT_ZIP, 0 }, { "jar", FMT_ZIP, 0 },
	{ "apk", FMT_ZIP, 0 }, { "epub", FMT_ZIP, 0 }, { "zip", FMT_ZIP, 0 }, { "xps", FMT_ZIP, 0 },
	{ "oxps", FMT_ZIP, 0 }, { "kmz", FMT_ZIP, 0 }, { "pages", FMT_ZIP, 0 }, { "numbers", FMT_ZIP, 0 },
	{ "key", FMT_ZIP, 0 }, { "idml", FMT_ZIP, 0 },
	{ "doc", FMT_OLE2, M(FMT_ZIP) | M(FMT_RTF) | M(FMT_TEXT) }, { "dot", FMT_OLE2, M(FMT_ZIP) },
	{ "xls", FMT_OLE2, M(FMT_ZIP) | M(FMT_TEXT) }, { "xlt", FMT_OLE2, M(FMT_ZIP) },
	{ "ppt", FMT_OLE2, M(FMT_ZIP) }, { "pps", FMT_OLE2, M(FMT_ZIP) }, { "pot", FMT_OLE2, M(FMT_ZIP) },
	{ "msg", FMT_OLE2, 0 }, { "vsd", FMT_OLE2, 0 }, { "pub", FMT_OLE2, 0 }, { "msi", FMT_OLE2, 0 },
	{ "pdf", FMT_PDF, 0 }, { "ai", FMT_PDF, M(FMT_PS) },
	{ "jpg", FMT_JPEG, IMAGES }, { "jpeg", FMT_JPEG, IMAGES }, { "jpe", FMT_JPEG, IMAGES },
	{ "jfif", FMT_JPEG, IMAGES }, { "png", FMT_PNG, IMAGES }, { "gif", FMT_GIF, IMAGES },
	{ "bmp", FMT_BMP, IMAGES }, { "dib", FMT_BMP, IMAGES }, { "tif", FMT_TIFF, IMAGES },
	{ "tiff", FMT_TIFF, IMAGES }, { "webp", FMT_WEBP, IMAGES },
	{ "heic", FMT_MP4, IMAGES }, { "heif", FMT_MP4, IMAGES }, { "avif", FMT_MP4, IMAGES },
	{ "mp4", FMT_MP4, VIDEO }, { "m4v", FMT_MP4, VIDEO }, { "mov", FMT_MP4, VIDEO },
	{ "3gp", FMT_MP4, VIDEO }, { "m4a", FMT_MP4, AUDIO }, { "mkv", FMT_MKV, VIDEO },
	{ "webm", FMT_MKV, VIDEO }, { "avi", FMT_AVI, VIDEO },
	{ "mp3", FMT_MP3, AUDIO }, { "wav", FMT_WAV, AUDIO }, { "flac", FMT_FLAC, AUDIO },
	{ "ogg", FMT_OGG, AUDIO }, { "oga", FMT_OGG, AUDIO }, { "ogv", FMT_OGG, VIDEO },
	{ "opus", FMT_OGG, AUDIO },
	{ "7z", FMT_7Z, 0 }, { "gz", FMT_GZIP, 0 }, { "tgz", FMT_GZIP, 0 }, { "svgz", FMT_GZIP, 0 },
	{ "bz2", FMT_BZIP2, 0 }, { "tbz2", FMT_BZIP2, 0 }, { "xz", FMT_XZ, 0 }, { "txz", FMT_XZ, 0 },
	{ "zst", FMT_ZSTD, 0 }, { "rar", FMT_RAR, 0 }, { "tar", FMT_TAR, 0 },
	{ "lz4", FMT_PACKED, 0 }, { "lz", FMT_PACKED, 0 }, { "z", FMT_PACKED, 0 }, { "sz", FMT_PACKED, 0 },
	{ "cab", FMT_PACKED, 0 },
	{ "gpg", FMT_PGP, 0 }, { "pgp", FMT_PGP, 0 }, { "asc", FMT_PGP, M(FMT_TEXT) },
	{ "sig", FMT_PGP, 0 }, { "kdbx", FMT_KDBX, 0 }, { "kdb", FMT_KDBX, 0 }, { "aes", FMT_AESCRYPT, 0 },
	{ "age", FMT_AGE, 0 },
	{ "sqlite", FMT_SQLITE, 0 }, { "sqlite3", FMT_SQLITE, 0 }, { "db3", FMT_SQLITE, 0 },
	{ "exe", FMT_EXE, 0 }, { "dll", FMT_EXE, 0 }, { "sys", FMT_EXE, 0 }, { "ocx", FMT_EXE, 0 },
	{ "scr", FMT_EXE, 0 }, { "cpl", FMT_EXE, 0 },
	{ "rtf", FMT_RTF, M(FMT_OLE2) | M(FMT_ZIP) | M(FMT_TEXT) }, { "ps", FMT_PS, M(FMT_PDF) },
	{ "eps", FMT_PS, M(FMT_PDF) }, { "psd", FMT_PSD, 0 }, { "psb", FMT_PSD, 0 },
	{ "iso", FMT_ISO, 0 }, { "lnk", FMT_LNK, 0 }, { "pst", FMT_PST, 0 }, { "ost", FMT_PST, 0 },
	{ "mdb", FMT_ACCESS, 0 }, { "accdb", FMT_ACCESS, 0 }, { "dwg", FMT_DWG, 0 },
	{ "der", FMT_DER, M(FMT_TEXT) }, { "cer", FMT_DER, M(FMT_TEXT) }, { "crt", FMT_DER, M(FMT_TEXT) },
	{ "pfx", FMT_DER, 0 }, { "p12", FMT_DER, 0 }, { "p7b", FMT_DER, M(FMT_TEXT) },
	{ "p7s", FMT_DER, 0 }, { "p7m", FMT_DER, 0 }, { "pack", FMT_GITPACK, 0 },
	/* encrypted containers and headerless compression: random by design */
	{ "hc", FMT_RANDOM, 0 }, { "tc", FMT_RANDOM, 0 }, { "vc", FMT_RANDOM, 0 },
	{ "br", FMT_RANDOM, 0 }, { "brotli", FMT_RANDOM, 0 },
	/* text */
	{ "txt", FMT_TEXT, TEXTISH }, { "csv", FMT_TEXT, TEXTISH }, { "tsv", FMT_TEXT, TEXTISH },
	{ "log", FMT_TEXT, 0 }, { "md", FMT_TEXT, 0 }, { "xml", FMT_TEXT, 0 }, { "html", FMT_TEXT, 0 },
	{ "htm", FMT_TEXT, 0 }, { "xhtml", FMT_TEXT, 0 }, { "json", FMT_TEXT, 0 }, { "yaml", FMT_TEXT, 0 },
	{ "yml", FMT_TEXT, 0 }, { "ini", FMT_TEXT, 0 }, { "cfg", FMT_TEXT, 0 }, { "conf", FMT_TEXT, 0 },
	{ "config", FMT_TEXT, 0 }, { "properties", FMT_TEXT, 0 }, { "sql", FMT_TEXT, 0 },
	{ "c", FMT_TEXT, 0 }, { "h", FMT_TEXT, 0 }, { "cpp", FMT_TEXT, 0 }, { "hpp", FMT_TEXT, 0 },
	{ "cs", FMT_TEXT, 0 }, { "java", FMT_TEXT, 0 }, { "py", FMT_TEXT, 0 }, { "js", FMT_TEXT, 0 },
	{ "ts", FMT_TEXT, 0 }, { "php", FMT_TEXT, 0 }, { "rb", FMT_TEXT, 0 }, { "go", FMT_TEXT, 0 },
	{ "rs", FMT_TEXT, 0 }, { "sh", FMT_TEXT, 0 }, { "bat", FMT_TEXT, 0 }, { "cmd", FMT_TEXT, 0 },
	{ "ps1", FMT_TEXT, 0 }, { "vbs", FMT_TEXT, 0 }, { "css", FMT_TEXT, 0 }, { "svg", FMT_TEXT, 0 },
	{ "eml", FMT_TEXT, 0 }, { "ics", FMT_TEXT, 0 }, { "vcf", FMT_TEXT, 0 }, { "tex", FMT_TEXT, 0 },
	{ "srt", FMT_TEXT, 0 }, { "vtt", FMT_TEXT, 0 }, { "nfo", FMT_TEXT, 0 }, { "reg", FMT_TEXT, 0 },
	{ "inf", FMT_TEXT, 0 }, { "xmp", FMT_TEXT, 0 }, { "aae", FMT_TEXT, 0 }, { "url", FMT_TEXT, 0 },
	{ "md5", FMT_TEXT, 0 }, { "sha1", FMT_TEXT, 0 }, { "sha256", FMT_TEXT, 0 },
	{ "sha512", FMT_TEXT, 0 }, { "sfv", FMT_TEXT, 0 },
};

/*
 * Suffixes after which the earlier extension says nothing about the bytes:
 * files still being written, and files built from another (java.sql.jmod,
 * config.cpython-312.pyc, app.js.map).
 */
static const char *const opaque_exts[] = {
	"part", "partial", "crdownload", "download", "tmp", "temp", "filepart", "opdownload",
	"pyc", "pyo", "class", "jmod", "map", "o", "obj", "lo", "so", "a", "la", "idx", "pdb", "gch", "pch",
};

static void
set_field(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The detail sentence is built by appending; it never overflows and never formats with the locale. */
static void
detail_add(struct content_result *r, const char *s)
{
	size_t len = strlen(r->detail), n = strlen(s);

	if (n > sizeof(r->detail) - 1 - len)
		n = sizeof(r->detail) - 1 - len;
	memcpy(r->detail + len, s, n);
	r->detail[len + n] = '\0';
}

static void
detail_entropy(struct content_result *r, double h)
{
	char buf[8];
	int v = (int)(h * 100 + 0.5);

	if (v < 0)
		v = 0;
	if (v > 800)
		v = 800;
	buf[0] = (char)('0' + v / 100);
	buf[1] = '.';
	buf[2] = (char)('0' + v / 10 % 10);
	buf[3] = (char)('0' + v % 10);
	buf[4] = '\0';
	detail_add(r, buf);
}

static const struct ext *
ext_find(const char *e)
{
	size_t i;

	for (i = 0; i < nitems(exts); i++)
		if (strcmp(exts[i].ext, e) == 0)
			return &exts[i];
	return NULL;
}

/* Lower-cases an extension of plain letters and digits into buf; 0 when it cannot be one of ours. */
static int
ext_copy(const char *p, size_t n, char *buf, size_t cap)
{
	size_t i;

	if (n == 0 || n >= cap)
		return 0;
	for (i = 0; i < n; i++) {
		if (!is_alnum((unsigned char)p[i]))
			return 0;
		buf[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
	}
	buf[n] = '\0';
	return 1;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!is_digit(*s))
			return 0;
	return 1;
}

/* Numbered volumes of a split archive: 2 for .z01 and .r00 (zip and rar volumes), 1 for .001, else 0. */
static int
split_volume(const char *e)
{
	if (strlen(e) == 3 && (e[0] == 'z' || e[0] == 'r') && is_digit(e[1]) && is_digit(e[2]))
		return 2;
	return all_digits(e) && strlen(e) <= 4;
}

static int
archive_ext(const struct ext *e)
{
	return strcmp(e->ext, "zip") == 0 || e->fmt == FMT_7Z || e->fmt == FMT_RAR || e->fmt == FMT_GZIP ||
	    e->fmt == FMT_BZIP2 || e->fmt == FMT_XZ || e->fmt == FMT_ZSTD || e->fmt == FMT_TAR ||
	    e->fmt == FMT_PACKED;
}

struct name_info {
	const struct ext *ext;	/* what the name promises, or NULL */
	int renamed;		/* the promise comes from an earlier extension (report.docx.x7kq2) */
	int volume;		/* a numbered volume of a split archive */
	int owner_file;		/* an Office owner file (~$name.docx): not the document */
	int enc_suffix;		/* NAME.enc: what `openssl enc` writes, whatever NAME promised */
};

/*
 * The last extension decides; when it is unknown, an earlier one (up to
 * six back: report.docx.id-1234.[mail@example].crypt) tells what the file
 * was before ransomware renamed it.
 */
static void
name_parse(const char *name, size_t namelen, struct name_info *ni)
{
	const char *base = name, *end, *dot;
	char e[16];
	size_t i;
	int k, volume = 0;

	memset(ni, 0, sizeof(*ni));
	if (name == NULL)
		return;
	for (i = namelen; i > 0; i--)
		if (name[i - 1] == '/') {
			base = name + i;
			break;
		}
	namelen -= (size_t)(base - name);
	if (namelen >= 2 && base[0] == '~' && base[1] == '$')
		ni->owner_file = 1;
	end = base + namelen;
	for (k = 0; k < 7; k++) {
		for (dot = end; dot > base && dot[-1] != '.'; dot--)
			;
		if (dot <= base + 1)
			return;		/* no dot, or only a leading one (.bashrc) */
		if (ext_copy(dot, (size_t)(end - dot), e, sizeof(e))) {
			if (k == 0) {
				ni->enc_suffix = strcmp(e, "enc") == 0;
				for (i = 0; i < nitems(opaque_exts); i++)
					if (strcmp(e, opaque_exts[i]) == 0)
						return;
				if ((volume = split_volume(e)) == 2) {
					ni->volume = 1;
					return;
				}
			}
			if ((ni->ext = ext_find(e)) != NULL) {
				ni->renamed = k > 0;
				if (volume && archive_ext(ni->ext)) {
					/* archive.7z.002: a piece of an archive, random without a header */
					ni->ext = NULL;
					ni->renamed = 0;
					ni->volume = 1;
				}
				return;
			}
		}
		end = dot - 1;
	}
}

static int
fmt_matches(const struct samples *s, enum fmt f)
{
	size_t i;

	for (i = 0; i < nitems(magics); i++)
		if (magics[i].fmt == f && starts(s->part[HEAD].p, s->part[HEAD].n, magics[i].bytes, magics[i].len))
			return 1;
	return fmts[f].sig != NULL && fmts[f].sig(s);
}

/*
 * The format whose signature the head carries, or FMT_NONE. What the name
 * promises is tried first: a tar whose first member is called "MZ..." is a
 * tar, not a program.
 */
static enum fmt
detect(const struct samples *s, const struct ext *e)
{
	size_t i;
	int f;

	if (e != NULL) {
		if (e->fmt != FMT_TEXT && e->fmt != FMT_RANDOM && fmt_matches(s, e->fmt))
			return e->fmt;
		for (f = FMT_ZIP; f < FMT__COUNT; f++)
			if ((e->accept & M(f)) && fmt_matches(s, (enum fmt)f))
				return (enum fmt)f;
	}
	for (i = 0; i < nitems(magics); i++)
		if (starts(s->part[HEAD].p, s->part[HEAD].n, magics[i].bytes, magics[i].len))
			return magics[i].fmt;
	for (f = FMT_ZIP; f < FMT__COUNT; f++)
		if (fmts[f].sig != NULL && fmts[f].sig(s))
			return (enum fmt)f;
	return FMT_NONE;
}

static const char *
part_name(int i)
{
	return i == HEAD ? "head" : i == MID ? "middle" : "tail";
}

static void
verdict_text(const struct samples *s, const char *ext, struct content_result *r)
{
	int i, bad = 0, sep = 0;

	for (i = HEAD; i <= TAIL; i++)
		if (s->part[i].n > 0 && !part_blank(&s->part[i]) && !part_text(s, i))
			bad = 1;
	if (!bad) {
		r->verdict = CV_OK;
		set_field(r->found, sizeof(r->found), "text");
		detail_add(r, s->wide == W_NONE ? "text" : s->wide <= W_16BE ? "UTF-16 text" : "UTF-32 text");
		return;
	}
	r->verdict = CV_TEXT_BROKEN;
	set_field(r->found, sizeof(r->found), "binary");
	for (i = HEAD; i <= TAIL; i++)
		if (part_above(&s->part[i], H_TEXT_4K))
			set_field(r->found, sizeof(r->found), "random");
	detail_add(r, ext);
	detail_add(r, " is no longer text:");
	for (i = HEAD; i <= TAIL; i++) {
		if (s->part[i].n == 0)
			continue;
		detail_add(r, sep++ ? ", " : " ");
		detail_add(r, part_name(i));
		if (part_blank(&s->part[i]) || part_text(s, i))
			detail_add(r, " text");
		else if (part_above(&s->part[i], H_TEXT_4K)) {
			detail_add(r, " random (");
			detail_entropy(r, s->part[i].h);
			detail_add(r, ")");
		} else
			detail_add(r, " binary");
	}
}

static const char *
article(const char *fmt)
{
	static const char *const an[] = { "mp3", "mp4", "mkv", "xz", "lnk", "rtf" };
	size_t i;

	for (i = 0; i < nitems(an); i++)
		if (strcmp(fmt, an[i]) == 0)
			return "an ";
	return strchr("aeiou", fmt[0]) != NULL ? "an " : "a ";
}

/* The promised format is gone: say what is there instead. */
static void
verdict_broken(const struct samples *s, const struct ext *e, enum fmt found, int renamed,
    struct content_result *r)
{
	r->verdict = CV_FORMAT_BROKEN;
	if (strcmp(e->ext, fmts[e->fmt].name) == 0) {
		detail_add(r, renamed ? "renamed, not a valid " : "not a valid ");
	} else {
		detail_add(r, e->ext);
		detail_add(r, renamed ? " (renamed) is not " : " is not ");
		detail_add(r, article(fmts[e->fmt].name));
	}
	detail_add(r, fmts[e->fmt].name);
	if (found != FMT_NONE && found != FMT_TEXT) {
		set_field(r->found, sizeof(r->found), fmts[found].name);
		detail_add(r, ": it holds ");
		detail_add(r, fmts[found].name);
		detail_add(r, " data");
	} else if (part_above(&s->part[HEAD], H_CIPHER_4K)) {
		set_field(r->found, sizeof(r->found), "random");
		detail_add(r, ": its first bytes are random (");
		detail_entropy(r, s->part[HEAD].h);
		detail_add(r, " bits/byte)");
	} else {
		set_field(r->found, sizeof(r->found), found == FMT_TEXT ? "text" : "unknown");
		detail_add(r, found == FMT_TEXT ? ": it holds encoded text" : ": its first bytes are unknown");
	}
}

/* A format was found: it stands unless its structure behind the signature is noise. */
static void
verdict_structure(const struct samples *s, enum fmt found, struct content_result *r)
{
	const char *why = fmts[found].check != NULL ? fmts[found].check(s) : NULL;

	set_field(r->found, sizeof(r->found), fmts[found].name);
	if (why == NULL) {
		r->verdict = CV_OK;
		return;
	}
	r->verdict = CV_PARTIAL;
	r->detail[0] = '\0';
	detail_add(r, fmts[found].name);
	detail_add(r, " signature intact but ");
	detail_add(r, why);
}

static void
verdict_known(const struct samples *s, const struct name_info *ni, enum fmt found, struct content_result *r)
{
	const struct ext *e = ni->ext;
	uint64_t accept = e->accept | M(e->fmt);

	set_field(r->expected, sizeof(r->expected), fmts[e->fmt].name);
	if (e->fmt == FMT_RANDOM) {
		r->verdict = CV_OK;
		set_field(r->found, sizeof(r->found), found == FMT_NONE ? "random" : fmts[found].name);
		detail_add(r, "encrypted or compressed without a header: random by design");
		return;
	}
	if (e->fmt == FMT_TEXT || (found == FMT_TEXT && (accept & M(FMT_TEXT)))) {
		/* text that happens to start like a format (a CSV row "MZ,...") is still judged as text */
		if (found == FMT_NONE || found == FMT_TEXT || part_text(s, HEAD)) {
			verdict_text(s, e->ext, r);
			return;
		}
		if ((accept & M(found)) || !fmts[found].container) {
			detail_add(r, "holds ");
			detail_add(r, fmts[found].name);
			detail_add(r, " data");
			verdict_structure(s, found, r);
			/* a signature by chance in damaged text: it is the text that broke */
			if (r->verdict == CV_PARTIAL) {
				r->detail[0] = '\0';
				verdict_text(s, e->ext, r);
			}
			return;
		}
		r->verdict = CV_TEXT_BROKEN;
		set_field(r->found, sizeof(r->found), fmts[found].name);
		detail_add(r, e->ext);
		detail_add(r, " is no longer text: it holds ");
		detail_add(r, fmts[found].name);
		detail_add(r, " data");
		return;
	}
	if (found == FMT_NONE && e->fmt == FMT_ISO) {
		/* the volume descriptor lies at 32 KiB; before it a system area of zeros or boot code */
		if (!part_above(&s->part[HEAD], H_CIPHER_4K)) {
			r->verdict = CV_OK;
			set_field(r->found, sizeof(r->found), "iso");
			detail_add(r, "disk image, system area intact");
			return;
		}
		verdict_broken(s, e, found, ni->renamed, r);
		return;
	}
	if (found == FMT_NONE || (found == FMT_TEXT && part_base64(&s->part[HEAD]))) {
		verdict_broken(s, e, found, ni->renamed, r);
		return;
	}
	if (found == FMT_TEXT) {
		/* an error page saved under an image name, a note: odd, but not what ransomware writes */
		r->verdict = CV_OK;
		set_field(r->found, sizeof(r->found), "text");
		detail_add(r, "misnamed: holds text, not ");
		detail_add(r, fmts[e->fmt].name);
		return;
	}
	if (accept & M(found)) {
		detail_add(r, "valid ");
		detail_add(r, fmts[found].name);
		verdict_structure(s, found, r);
		return;
	}
	if (fmts[found].container) {
		verdict_broken(s, e, found, ni->renamed, r);
		return;
	}
	detail_add(r, "misnamed: holds ");
	detail_add(r, fmts[found].name);
	detail_add(r, ", not ");
	detail_add(r, fmts[e->fmt].name);
	verdict_structure(s, found, r);
}

const char *
content_verdict_name(enum content_verdict v)
{
	switch (v) {
	case CV_OK:
		return "ok";
	case CV_UNKNOWN:
		return "unknown";
	case CV_FORMAT_BROKEN:
		return "format_broken";
	case CV_TEXT_BROKEN:
		return "text_broken";
	case CV_CIPHERTEXT:
		return "ciphertext";
	case CV_PARTIAL:
		return "partial";
	}
	return "unknown";
}

void
content_classify(const char *name, size_t namelen, const unsigned char *head, size_t headlen,
    const unsigned char *mid, size_t midlen, const unsigned char *tail, size_t taillen, uint64_t size,
    struct content_result *r)
{
	struct samples s;
	struct name_info ni;
	enum fmt found;
	int i, any_random, all_random, accepted;

	memset(r, 0, sizeof(*r));
	r->size = size;
	r->entropy[0] = r->entropy[1] = r->entropy[2] = -1;
	name_parse(name, name != NULL ? namelen : 0, &ni);
	if (ni.ext != NULL)
		set_field(r->expected, sizeof(r->expected), fmts[ni.ext->fmt].name);
	if (size < TINY_FILE) {
		r->verdict = CV_OK;
		detail_add(r, "too small to judge");
		return;
	}
	memset(&s, 0, sizeof(s));
	s.size = size;
	part_measure(&s.part[HEAD], head, head != NULL ? headlen : 0);
	part_measure(&s.part[MID], mid, mid != NULL ? midlen : 0);
	part_measure(&s.part[TAIL], tail, tail != NULL ? taillen : 0);
	for (i = HEAD; i <= TAIL; i++)
		r->entropy[i] = s.part[i].h;
	/* only a sample known to end at the end of the file can show a trailer */
	if (s.part[TAIL].n > 0) {
		s.end = s.part[TAIL].p;
		s.endlen = s.part[TAIL].n;
	} else if (s.part[HEAD].n + s.part[MID].n >= size) {
		i = s.part[MID].n > 0 ? MID : HEAD;
		s.end = s.part[i].p;
		s.endlen = s.part[i].n;
	}
	detect_wide(&s);
	if (ni.owner_file && size < 4096) {
		r->verdict = CV_OK;
		detail_add(r, "office owner file");
		return;
	}
	found = detect(&s, ni.ext);
	if (found == FMT_NONE && s.part[HEAD].n > 0 && part_text(&s, HEAD))
		found = FMT_TEXT;
	if (ni.enc_suffix && found == FMT_OPENSSL) {
		/* salted OpenSSL ciphertext; without its header, NAME.enc is judged by NAME as before */
		r->verdict = CV_OK;
		set_field(r->found, sizeof(r->found), fmts[found].name);
		detail_add(r, "encrypted by openssl enc");
		return;
	}
	any_random = 0;
	all_random = s.part[HEAD].n >= MIN_JUDGED;
	for (i = HEAD; i <= TAIL; i++) {
		if (s.part[i].n < MIN_JUDGED)
			continue;	/* a few bytes before the end of a small file say nothing */
		if (part_above(&s.part[i], H_TEXT_4K))
			any_random = 1;
		if (!part_above(&s.part[i], H_CIPHER_4K))
			all_random = 0;
	}

	if (ni.ext == NULL) {
		set_field(r->found, sizeof(r->found), fmts[found].name);
		if (ni.volume) {
			r->verdict = CV_OK;
			detail_add(r, "a volume of a split archive");
		} else if (found == FMT_NONE && all_random) {
			r->verdict = CV_CIPHERTEXT;
			set_field(r->found, sizeof(r->found), "random");
			detail_add(r, "no known format and random bytes throughout (head ");
			detail_entropy(r, s.part[HEAD].h);
			detail_add(r, " bits/byte)");
		} else {
			r->verdict = CV_UNKNOWN;
			detail_add(r, "unknown extension");
			if (found != FMT_NONE) {
				detail_add(r, ", holds ");
				detail_add(r, fmts[found].name);
				detail_add(r, found == FMT_TEXT ? "" : " data");
			}
		}
		return;
	}
	verdict_known(&s, &ni, found, r);
	/*
	 * After an unknown suffix the earlier extension is a guess: a sidecar
	 * (photo.jpg.xmp, module.config.pyc) is not ransomware. Keep the alarm
	 * only when some part is as dense as ciphertext, and call content that
	 * does not confirm the guess unknown.
	 */
	accepted = found == ni.ext->fmt || (ni.ext->accept & M(found)) != 0;
	if (ni.renamed && !any_random && (r->verdict != CV_OK || !accepted)) {
		r->verdict = CV_UNKNOWN;
		r->detail[0] = '\0';
		detail_add(r, "unknown extension after ");
		detail_add(r, ni.ext->ext);
		detail_add(r, ", content neither matches it nor is random");
	}
}

/* pread until n bytes or end of file: a short read is not an error (the file may be shrinking). */
static ssize_t
read_at(int fd, unsigned char *buf, size_t n, off_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(fd, buf + got, n - got, off + (off_t)got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
content_analyze_fd(int fd, const char *name, size_t namelen, struct content_result *r)
{
	unsigned char buf[3 * CONTENT_SAMPLE];
	unsigned char *mid = buf + CONTENT_SAMPLE, *tail = buf + 2 * CONTENT_SAMPLE;
	struct stat st;
	ssize_t hn, mn, tn;
	size_t n, tstart;
	uint64_t size;
	off_t moff;

	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	size = (uint64_t)st.st_size;
	if (size <= sizeof(buf)) {
		/* small files are read once and cut into head, middle and the bytes before the end */
		if ((hn = read_at(fd, buf, (size_t)size, 0)) == -1)
			return -1;
		n = (size_t)hn;
		if (n <= CONTENT_SAMPLE) {
			content_classify(name, namelen, buf, n, NULL, 0, NULL, 0, n, r);
			return 0;
		}
		tstart = n - CONTENT_SAMPLE > CONTENT_SAMPLE ? n - CONTENT_SAMPLE : CONTENT_SAMPLE;
		content_classify(name, namelen, buf, CONTENT_SAMPLE, buf + CONTENT_SAMPLE, tstart - CONTENT_SAMPLE,
		    buf + tstart, n - tstart, n, r);
		return 0;
	}
	moff = (off_t)((size / 2) & ~(uint64_t)(CONTENT_SAMPLE - 1));
	if ((hn = read_at(fd, buf, CONTENT_SAMPLE, 0)) == -1 ||
	    (mn = read_at(fd, mid, CONTENT_SAMPLE, moff)) == -1 ||
	    (tn = read_at(fd, tail, CONTENT_SAMPLE, (off_t)(size - CONTENT_SAMPLE))) == -1)
		return -1;
	/* a tail cut short means the file shrank: what was read no longer ends at its end */
	if (tn < CONTENT_SAMPLE)
		tn = 0;
	content_classify(name, namelen, buf, (size_t)hn, mid, (size_t)mn, tail, (size_t)tn, size, r);
	return 0;
}

/* The worker: one thread, a bounded queue of jobs in, a queue of results out, an eventfd to wake the loop. */

struct content_item {
	struct content_item *next;
	struct content_job job;
	struct content_result res;
};

struct content_worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd;
	int stop;
	size_t max_queue;
	size_t held;			/* jobs queued, in analysis, or with a result not yet collected */
	struct content_item *in, **in_tail;
	struct content_item *out, **out_tail;
	uint64_t analyzed, dropped, failed, cpu_ns;
};

static void
item_free(struct content_item *it)
{
	free(it->job.path);
	free(it);
}

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Opens the job's file (by handle first: it survives a rename), analyzes it; 0 ok, -1 failed. */
static int
item_run(struct content_item *it)
{
	const struct content_job *job = &it->job;
	struct sw_str base;
	int fd = -1, rc;

	if (job->has_handle)
		fd = fs_open_handle(&job->handle);
	if (fd == -1 && job->path != NULL && job->pathlen > 0)
		fd = fs_open_nofollow(job->path, job->pathlen);
	if (fd == -1) {
		/* gone, renamed away, a symlink or not a regular file: nothing to analyze */
		if (errno != ENOENT && errno != ESTALE && errno != ELOOP && errno != EINVAL &&
		    errno != ENOTDIR)
			log_debug("content: job %llu: cannot open: %s", (unsigned long long)job->seq,
			    strerror(errno));
		return -1;
	}
	base = path_base((struct sw_str){ job->path != NULL ? job->path : "", job->path != NULL ? job->pathlen : 0 });
	rc = content_analyze_fd(fd, base.p, base.n, &it->res);
	if (rc == -1)
		log_debug("content: job %llu: read failed: %s", (unsigned long long)job->seq, strerror(errno));
	close(fd);
	return rc;
}

static void *
worker_main(void *arg)
{
	struct content_worker *w = arg;
	struct content_item *it;
	uint64_t one = 1, t0, t1;
	int rc;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && w->in == NULL)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		it = w->in;
		if ((w->in = it->next) == NULL)
			w->in_tail = &w->in;
		it->next = NULL;
		pthread_mutex_unlock(&w->mu);

		t0 = thread_cpu_ns();
		rc = item_run(it);
		t1 = thread_cpu_ns();

		pthread_mutex_lock(&w->mu);
		if (rc == -1) {
			w->failed++;
			w->held--;
			item_free(it);
			continue;
		}
		w->analyzed++;
		w->cpu_ns += t1 - t0;
		*w->out_tail = it;
		w->out_tail = &it->next;
		pthread_mutex_unlock(&w->mu);
		while (write(w->efd, &one, sizeof(one)) == -1 && errno == EINTR)
			;
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct content_worker *
content_worker_start(size_t max_queue)
{
	struct content_worker *w = xcalloc(1, sizeof(*w));
	int err;

	w->max_queue = max_queue > 0 ? max_queue : 1024;
	w->in_tail = &w->in;
	w->out_tail = &w->out;
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("content: eventfd");
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	err = thread_start(&w->thread, worker_main, w);
	if (err != 0) {
		errno = err;
		log_warn("content: cannot start the worker thread");
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		close(w->efd);
		free(w);
		return NULL;
	}
	return w;
}

void
content_worker_stop(struct content_worker *w)
{
	struct content_item *it, *next;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	for (it = w->in; it != NULL; it = next) {
		next = it->next;
		item_free(it);
	}
	for (it = w->out; it != NULL; it = next) {
		next = it->next;
		item_free(it);
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	close(w->efd);
	free(w);
}

int
content_worker_submit(struct content_worker *w, const struct content_job *job)
{
	struct content_item *it;

	pthread_mutex_lock(&w->mu);
	if (w->held >= w->max_queue) {
		w->dropped++;
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	w->held++;
	pthread_mutex_unlock(&w->mu);

	it = xcalloc(1, sizeof(*it));
	it->job = *job;
	it->job.user[sizeof(it->job.user) - 1] = '\0';
	it->job.ip[sizeof(it->job.ip) - 1] = '\0';
	it->job.path = NULL;
	it->job.pathlen = 0;
	if (job->path != NULL) {
		it->job.path = xstrndup(job->path, job->pathlen);
		it->job.pathlen = job->pathlen;
	}

	pthread_mutex_lock(&w->mu);
	*w->in_tail = it;
	w->in_tail = &it->next;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int
content_worker_fd(const struct content_worker *w)
{
	return w->efd;
}

int
content_worker_collect(struct content_worker *w, content_result_cb cb, void *arg)
{
	struct content_item *list, *it, *next;
	uint64_t v;
	int n = 0;

	while (read(w->efd, &v, sizeof(v)) == -1 && errno == EINTR)
		;
	pthread_mutex_lock(&w->mu);
	list = w->out;
	w->out = NULL;
	w->out_tail = &w->out;
	pthread_mutex_unlock(&w->mu);
	for (it = list; it != NULL; it = next) {
		next = it->next;
		if (cb != NULL)
			cb(&it->job, &it->res, arg);
		item_free(it);
		n++;
	}
	pthread_mutex_lock(&w->mu);
	w->held -= (size_t)n;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void
content_worker_stats(const struct content_worker *w, uint64_t *analyzed, uint64_t *dropped,
    uint64_t *failed, uint64_t *cpu_ns)
{
	struct content_worker *mw = (struct content_worker *)(uintptr_t)w;

	pthread_mutex_lock(&mw->mu);
	if (analyzed != NULL)
		*analyzed = w->analyzed;
	if (dropped != NULL)
		*dropped = w->dropped;
	if (failed != NULL)
		*failed = w->failed;
	if (cpu_ns != NULL)
		*cpu_ns = w->cpu_ns;
	pthread_mutex_unlock(&mw->mu);
}
