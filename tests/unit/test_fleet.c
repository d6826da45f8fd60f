/* The fleet's messages: what travels between servers over NATS, and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "fleet.h"
#include "incident.h"

static void
test_roundtrip(void **state)
{
	struct fleet_msg m, back;
	char err[256], *s;
	size_t len;

	(void)state;
	memset(&m, 0, sizeof m);
	snprintf(m.type, sizeof m.type, "%s", FLEET_INCIDENT);
	snprintf(m.site, sizeof m.site, "site1");
	snprintf(m.server, sizeof m.server, "srv-1");
	snprintf(m.origin, sizeof m.origin, "site1/srv-1#42");
	snprintf(m.user, sizeof m.user, "LAB\\alice");
	snprintf(m.domain, sizeof m.domain, "LAB");
	snprintf(m.ip, sizeof m.ip, "10.77.0.11");
	snprintf(m.mac, sizeof m.mac, "02:00:00:00:01:01");
	snprintf(m.host, sizeof m.host, "CLIENT1");
	snprintf(m.reason, sizeof m.reason, "ransom_note (score 10.0)");
	m.first_event_at = 1765151999000;
	m.detected_at = 1765152000000;
	m.at = 1765152000010;
	assert_non_null(s = fleet_msg_render(&m, &len));
	assert_int_equal(strlen(s), len);
	assert_int_equal(fleet_msg_parse(s, len, &back, err, sizeof err), 0);
	assert_memory_equal(&m, &back, sizeof m);
	free(s);

	/* A user name that is not UTF-8 (bytes from SMB) travels escaped, never as broken JSON. */
	snprintf(m.user, sizeof m.user, "al\xffice");
	assert_non_null(s = fleet_msg_render(&m, &len));
	assert_int_equal(fleet_msg_parse(s, len, &back, err, sizeof err), 0);
	assert_string_equal(back.user, "al\\xffice");
	free(s);
}

static void
expect_refused(const char *json, const char *why)
{
	struct fleet_msg m;
	char err[256] = "";

	assert_int_equal(fleet_msg_parse(json, strlen(json), &m, err, sizeof err), -1);
	if (strstr(err, why) == NULL)
		fail_msg("%s: error '%s' does not say '%s'", json, err, why);
}

static void
test_refused(void **state)
{
	char big[FLEET_MSG_MAX + 10];

	(void)state;
	expect_refused("", "not JSON");
	expect_refused("[1]", "not a JSON object");
	expect_refused("{\"v\":2,\"type\":\"release\"}", "\"v\" is not 1");
	expect_refused("{\"v\":1,\"type\":\"shutdown\",\"site\":\"a\",\"server\":\"b\",\"origin\":\"a/b#1\"}",
	    "unknown type");
	expect_refused("{\"v\":1,\"type\":\"release\",\"site\":\"a.b\",\"server\":\"b\",\"origin\":\"a/b#1\"}",
	    "not a name");
	expect_refused("{\"v\":1,\"type\":\"release\",\"site\":\"a\",\"server\":\"b\",\"origin\":\"a/b#0\"}",
	    "\"origin\" is not");
	expect_refused("{\"v\":1,\"type\":\"release\",\"site\":\"a\",\"server\":\"b\",\"origin\":\"a/b#1x\"}",
	    "\"origin\" is not");
	/* Only the origin announces an incident: another server cannot open one in its name. */
	expect_refused("{\"v\":1,\"type\":\"incident\",\"site\":\"a\",\"server\":\"c\",\"origin\":\"a/b#1\","
	    "\"user\":\"alice\"}", "another server than its origin");
	expect_refused("{\"v\":1,\"type\":\"incident\",\"site\":\"a\",\"server\":\"b\",\"origin\":\"a/b#1\"}",
	    "no \"user\"");
	expect_refused("{\"v\":1,\"type\":\"incident\",\"site\":\"a\",\"server\":\"b\",\"origin\":\"a/b#1\","
	    "\"user\":\"al\\u0000ice\"}", "NUL");
	expect_refused("{\"v\":1,\"type\":\"incident\",\"site\":\"a\",\"server\":\"b\",\"origin\":\"a/b#1\","
	    "\"user\":7}", "not a string");
	expect_refused("{\"v\":1,\"type\":\"incident\",\"site\":\"a\",\"server\":\"b\",\"origin\":\"a/b#1\","
	    "\"user\":\"x\",\"detected_at\":-1}", "not a time");
	expect_refused("{\"v\":1,\"v\":1}", "not JSON");
	memset(big, ' ', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	expect_refused(big, "more than");
}

static void
test_origin(void **state)
{
	struct config cfg;
	struct incident inc;
	char buf[192], site[64], server[64];
	int64_t id;

	(void)state;
	config_defaults(&cfg);
	free(cfg.fleet.site);
	free(cfg.fleet.server);
	cfg.fleet.site = strdup("hq");
	cfg.fleet.server = strdup("fs1");
	memset(&inc, 0, sizeof inc);
	inc.id = 12;
	fleet_origin_of(&cfg, &inc, buf, sizeof buf);
	assert_string_equal(buf, "hq/fs1#12");
	assert_int_equal(fleet_origin_split(buf, site, server, &id), 0);
	assert_string_equal(site, "hq");
	assert_string_equal(server, "fs1");
	assert_int_equal(id, 12);
	/* An incident that came from the fleet keeps its origin. */
	snprintf(inc.origin, sizeof inc.origin, "branch/fs2#3");
	fleet_origin_of(&cfg, &inc, buf, sizeof buf);
	assert_string_equal(buf, "branch/fs2#3");
	assert_int_equal(fleet_origin_split("a/b", site, server, &id), -1);
	assert_int_equal(fleet_origin_split("/b#1", site, server, &id), -1);
	assert_int_equal(fleet_origin_split("a/#1", site, server, &id), -1);
	assert_int_equal(fleet_origin_split("a/b#-1", site, server, &id), -1);
	assert_int_equal(fleet_origin_split("a b/c#1", site, server, &id), -1);
	assert_int_equal(fleet_origin_split("a/b#99999999999999999999", site, server, &id), -1);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
