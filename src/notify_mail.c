/* Email notifications: one RFC 5322 message over libcurl SMTP, STARTTLS required unless configured otherwise. */
#include <sys/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "config.h"
#include "journal.h"
#include "log.h"
#include "notify_impl.h"
#include "util.h"

/* RFC 5322 allows 998 bytes a line; longer body lines are broken before that. */
#define MAIL_LINE_MAX	900

/* The sender address: [notify] mail from, or sharewarden@<this host>. */
static void
mail_from(const struct config *cfg, char *buf, size_t bufsz)
{
	char host[256];

	if (cfg->notify.mail_from[0] != '\0') {
		snprintf(buf, bufsz, "%s", cfg->notify.mail_from);
		return;
	}
	if (gethostname(host, sizeof host) == -1 || host[0] == '\0')
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(buf, bufsz, "sharewarden@%s", host);
}

/* A header value never carries a line break, whatever reached it. */
static int
header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

/* A non-ASCII subject as RFC 2047 encoded words, folded; ASCII as it is. */
static void
put_subject(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i, take, l;
	unsigned char enc[128];
	int ascii = 1;

	for (i = 0; i < n; i++)
		if (u[i] >= 0x80)
			ascii = 0;
	if (ascii) {
		fprintf(f, "Subject: %s\r\n", s);
		return;
	}
	fputs("Subject:", f);
	for (i = 0; i < n; i += take) {
		/* 45 bytes become 60 of base64: each word stays under 76 characters. */
		for (take = 0; i + take < n && take < 45; take += l) {
			l = utf8_char_len(u + i + take, n - i - take, NULL);
			if (l == 0)
				l = 1;
			if (take + l > 45)
				break;
		}
		if (take == 0)
			take = 1;
		EVP_EncodeBlock(enc, u + i, (int)take);
		fprintf(f, " =?UTF-8?B?%s?=\r\n", enc);
	}
}

/* The body with CRLF line ends, long lines broken between characters. */
static void
put_body(FILE *f, const char *p, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r')
			continue;
		if (p[i] == '\n') {
			fputs("\r\n", f);
			col = 0;
			continue;
		}
		if (col >= MAIL_LINE_MAX && ((unsigned char)p[i] & 0xc0) != 0x80) {
			fputs("\r\n", f);
			col = 0;
		}
		fputc(p[i], f);
		col++;
	}
	if (col)
		fputs("\r\n", f);
}

/* English names whatever the locale: RFC 5322 wants them. */
static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
	"Sep", "Oct", "Nov", "Dec" };

/* The whole message: headers from trusted configuration and the sanitized subject, then the ticket. */
static char *
message_build(const struct outbox_msg *m, const char *from, size_t *len)
{
	char date[64], host[128], *buf = NULL;
	const char *at = strrchr(from, '@');
	unsigned char rnd[8];
	struct tm tm;
	time_t t = time(NULL);
	FILE *f;

	gmtime_r(&t, &tm);
	snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		memset(rnd, 0, sizeof rnd);
	snprintf(host, sizeof host, "%s", at && at[1] ? at + 1 : "localhost");

	if ((f = open_memstream(&buf, len)) == NULL)
		fatal("notify: mail");
	fprintf(f, "Date: %s\r\n", date);
	fprintf(f, "From: sharewarden <%s>\r\n", from);
	fprintf(f, "To: %s\r\n", m->target);
	put_subject(f, m->subject);
	fprintf(f, "Message-ID: <sharewarden.%lld.%s.%lld.", (long long)m->incident_id, m->stage,
	    (long long)m->id);
	for (size_t i = 0; i < sizeof rnd; i++)
		fprintf(f, "%02x", rnd[i]);
	fprintf(f, "@%s>\r\n", host);
	fputs("MIME-Version: 1.0\r\n", f);
	fputs("Content-Type: text/plain; charset=utf-8\r\n", f);
	fputs("Content-Transfer-Encoding: 8bit\r\n", f);
	fputs("Auto-Submitted: auto-generated\r\n", f);
	fprintf(f, "X-Sharewarden-Incident: %lld\r\n", (long long)m->incident_id);
	fputs("\r\n", f);
	put_body(f, m->body, m->body_len);
	if (fclose(f) != 0)
		fatal("notify: mail");
	return buf;
}

struct upload {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* "a@x, b@y" as a libcurl recipient list of <a@x> and <b@y>. */
static struct curl_slist *
recipients(const char *target)
{
	struct curl_slist *l = NULL, *nl;
	char *copy = xstrdup(target), *save = NULL, *tok, addr[512];
	size_t n;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		n = strlen(tok);
		while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
			tok[--n] = '\0';
		if (n == 0)
			continue;
		snprintf(addr, sizeof addr, "<%s>", tok);
		if ((nl = curl_slist_append(l, addr)) == NULL)
			fatalx("notify: out of memory");
		l = nl;
	}
	free(copy);
	return l;
}

int
notify_mail_send(const struct config *cfg, const struct outbox_msg *m, const volatile int *stop,
    char *err, size_t errlen)
{
	const struct notify_cfg *nc = &cfg->notify;
	char from[320], envfrom[330], errbuf[CURL_ERROR_SIZE];
	struct curl_slist *rcpt;
	struct upload up;
	size_t len;
	char *msg;
	CURL *c;
	CURLcode rc;
	int ret;

	mail_from(cfg, from, sizeof from);
	if (!header_safe(from) || !header_safe(m->target) || !header_safe(m->subject) ||
	    strpbrk(m->target, "<>") != NULL || strpbrk(from, "<>") != NULL) {
		snprintf(err, errlen, "refused: a line break or angle bracket in an address or the"
		    " subject");
		return -1;
	}
	if ((rcpt = recipients(m->target)) == NULL) {
		snprintf(err, errlen, "no recipients");
		return -1;
	}
	if ((c = curl_easy_init()) == NULL) {
		curl_slist_free_all(rcpt);
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	msg = message_build(m, from, &len);
	up.p = msg;
	up.left = len;
	snprintf(envfrom, sizeof envfrom, "<%s>", from);
	notify_curl_setup(c, cfg, stop, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, nc->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* smtps:// is TLS from the first byte; smtp:// must upgrade before anything is sent. */
	if (strncmp(nc->smtp_url, "smtp://", 7) == 0 && nc->smtp_starttls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (nc->smtp_user[0] != '\0') {
		curl_easy_setopt(c, CURLOPT_USERNAME, nc->smtp_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, nc->smtp_password);
	}
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, envfrom);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(c);
	ret = rc == CURLE_OK ? 0 : notify_curl_error(rc, errbuf, cfg, nc->smtp_url, stop, err, errlen);
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpt);
	free(msg);
	return ret;
}
