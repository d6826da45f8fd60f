/* Webhook notifications: an HTTP(S) POST of the rendered JSON; any 2xx answer is a delivery. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "journal.h"
#include "notify_impl.h"

/* The receiver's answer is not needed: read and dropped. */
static size_t
discard_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

int
notify_webhook_send(const struct config *cfg, const struct outbox_msg *m,
    const volatile int *stop, char *err, size_t errlen)
{
	char errbuf[CURL_ERROR_SIZE], ctype[96];
	struct curl_slist *hdr = NULL, *nh;
	long status = 0;
	CURL *c;
	CURLcode rc;
	int ret = -1;

	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	snprintf(ctype, sizeof ctype, "Content-Type: %s",
	    m->content_type[0] && strpbrk(m->content_type, "\r\n") == NULL ?
	    m->content_type : "application/json");
	if ((nh = curl_slist_append(hdr, ctype)) != NULL)
		hdr = nh;
	/* No "Expect: 100-continue" round trip before the body. */
	if ((nh = curl_slist_append(hdr, "Expect:")) != NULL)
		hdr = nh;
	notify_curl_setup(c, cfg, stop, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, m->target);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "sharewarden");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, m->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)m->body_len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		ret = notify_curl_error(rc, errbuf, cfg, m->target, stop, err, errlen);
	else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300)
			ret = 0;
		else
			snprintf(err, errlen, "HTTP status %ld", status);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	return ret;
}
