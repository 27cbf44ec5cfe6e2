/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Accounting (001_aebc90bc0c46f8cb.txt 3.2): one row per role granted
 * (join), given up (leave) or refused (deny), written in the transaction of
 * the operation; read a page at a time by GetAccounting.
 *
 * `vnocd accounting --db PATH [--since ISO8601|EPOCH]`: the accounting rows
 * as CSV (RFC 4180), for per-group billing (001_aebc90bc0c46f8cb.txt 3.2:
 * "some accounting operations may also be performed ... to do per group
 * subscription billing"). It reads the database of a running vnocd safely
 * (WAL: readers do not block the writer).
 *
 *   time,epoch,site,group,role,action,reason
 *   2024-05-01T10:00:00Z,1714557600,A,239.1.1.1,send,join,granted
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnocd.h"

/* EPOCH seconds, or YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM|-HH:MM] (UTC when no
 * offset is given). */
int
vnocd_time_parse(const char *text, int64_t *t)
{
	struct tm tm = { 0 };
	const char *p;
	long off = 0;
	char *end;

	if (text[0] != '\0' && strspn(text, "0123456789") == strlen(text)) {
		*t = strtoll(text, &end, 10);
		return 0;
	}
	p = strptime(text, "%Y-%m-%d", &tm);
	if (p == NULL)
		return -1;
	if (*p == 'T' || *p == ' ') {
		const char *q = strptime(p + 1, "%H:%M:%S", &tm);

		if (q == NULL)
			q = strptime(p + 1, "%H:%M", &tm);
		if (q == NULL)
			return -1;
		p = q;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;

		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
			return -1;
		hh = (p[1] - '0') * 10 + (p[2] - '0');
		mm = (p[4] - '0') * 10 + (p[5] - '0');
		off = (hh * 60L + mm) * 60L * (*p == '-' ? -1 : 1);
		p += 6;
	}
	if (*p != '\0')
		return -1;
	*t = (int64_t)timegm(&tm) - off;
	return 0;
}

/* ---- recording (under vnocd.lock, in the operation's transaction) ---- */

int
vnocd_accounting_add(struct vnocd *d, int64_t now, const char *site, uint32_t group,
		     uint8_t roles, const char *action, const char *reason)
{
	static const uint8_t each[] = { VNOC_ROLE_SENDER, VNOC_ROLE_RECEIVER };

	for (unsigned int i = 0; i < 2; i++) {
		sqlite3_stmt *s;

		if (!(roles & each[i]))
			continue;
		s = vnocd_store_stmt(&d->store, VNOCD_SQL_ACCOUNTING_ADD);
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_text(s, 2, site, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, ntohl(group));
		sqlite3_bind_text(s, 4, vnocd_roles_str(each[i]), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, action, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, reason, -1, SQLITE_STATIC);
		if (vnocd_store_exec(&d->store, s) < 0)
			return -1;
	}
	return 0;
}

/* The accounting rows from `since` on, oldest first, one page. */
int
vnocd_accounting_page(struct vnocd *d, uint64_t since, struct vnoc_accounting_resp *resp)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, VNOCD_SQL_ACCOUNTING_SINCE);
	uint32_t cap = 0;
	int rc;

	memset(resp, 0, sizeof(*resp));
	sqlite3_bind_int64(s, 1, since > INT64_MAX ? INT64_MAX : (int64_t)since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vnoc_accounting_row *row;
		const char *role = (const char *)sqlite3_column_text(s, 3);
		const char *action = (const char *)sqlite3_column_text(s, 4);

		if (resp->n_rows == VNOC_MAX_ACCOUNTING_ROWS) {
			resp->more = true;
			break;
		}
		if (resp->n_rows == cap) {
			uint32_t n = cap ? cap * 2 : 64;
			struct vnoc_accounting_row *p = realloc(resp->rows, n * sizeof(*p));

			if (p == NULL)
				break;
			resp->rows = p;
			cap = n;
		}
		row = &resp->rows[resp->n_rows++];
		memset(row, 0, sizeof(*row));
		row->time = (uint64_t)sqlite3_column_int64(s, 0);
		snprintf(row->site, sizeof(row->site), "%s", (const char *)sqlite3_column_text(s, 1));
		row->group = htonl((uint32_t)sqlite3_column_int64(s, 2));
		row->roles = strcmp(role, "send") == 0 ? VNOC_ROLE_SENDER : VNOC_ROLE_RECEIVER;
		row->action = strcmp(action, "join") == 0    ? VNOC_ACCOUNTING_JOIN
			      : strcmp(action, "leave") == 0 ? VNOC_ACCOUNTING_LEAVE
							     : VNOC_ACCOUNTING_DENY;
		snprintf(row->reason, sizeof(row->reason), "%s",
			 (const char *)sqlite3_column_text(s, 5));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		free(resp->rows);
		memset(resp, 0, sizeof(*resp));
		vnocd_log("store: %s", vnocd_store_error(&d->store));
		return -1;
	}
	return 0;
}

/* ---- export ---- */

/* One CSV field: quoted when it holds a comma, quote or line break. */
static void
csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputs(last ? "\r\n" : ",", f);
}

int
vnocd_accounting_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct vnocd_store st;
	const char *db = NULL;
	int64_t since = 0;
	char err[512];
	sqlite3_stmt *s;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			db = optarg;
			break;
		case 's':
			if (vnocd_time_parse(optarg, &since) < 0) {
				fprintf(stderr, "vnocd accounting: --since: '%s' is neither Unix "
						"seconds nor ISO 8601 (2024-05-01T10:00:00Z)\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: vnocd accounting --db PATH [--since ISO8601|EPOCH]\n");
			return 2;
		}
	}
	if (db == NULL || optind != argc) {
		fprintf(stderr, "usage: vnocd accounting --db PATH [--since ISO8601|EPOCH]\n");
		return 2;
	}
	if (vnocd_store_open(&st, db, true, err, sizeof(err)) < 0) {
		fprintf(stderr, "vnocd accounting: %s\n", err);
		return 1;
	}
	s = vnocd_store_stmt(&st, VNOCD_SQL_ACCOUNTING_SINCE);
	sqlite3_bind_int64(s, 1, since);
	fputs("time,epoch,site,group,role,action,reason\r\n", stdout);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		time_t t = (time_t)sqlite3_column_int64(s, 0);
		struct in_addr g = { .s_addr = htonl((uint32_t)sqlite3_column_int64(s, 2)) };
		char iso[32], epoch[24], group[INET_ADDRSTRLEN];
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(epoch, sizeof(epoch), "%lld", (long long)t);
		inet_ntop(AF_INET, &g, group, sizeof(group));
		csv_field(stdout, iso, false);
		csv_field(stdout, epoch, false);
		csv_field(stdout, (const char *)sqlite3_column_text(s, 1), false);
		csv_field(stdout, group, false);
		csv_field(stdout, (const char *)sqlite3_column_text(s, 3), false);
		csv_field(stdout, (const char *)sqlite3_column_text(s, 4), false);
		csv_field(stdout, (const char *)sqlite3_column_text(s, 5), true);
	}
	sqlite3_reset(s);
	vnocd_store_close(&st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "vnocd accounting: %s\n", sqlite3_errstr(rc));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
