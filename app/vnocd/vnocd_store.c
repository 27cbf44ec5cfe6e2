/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VNOC's state in SQLite: the schema and every statement vnocd runs.
 * WAL with synchronous=FULL: a transaction is on disk (the WAL fsync'd)
 * before COMMIT returns, so an answer given to a site survives a crash.
 * Addresses and groups are stored as host-order integers, so that ORDER BY
 * sorts them as numbers. One connection, used under vnocd.lock only.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include "vnocd.h"

#define STORE_SCHEMA_VERSION 1

static const char store_schema[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	"  key TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta VALUES ('schema', 1), ('version', 0);"
	/* A site as it registered; view_version is the global version at
	 * which its view last changed. */
	"CREATE TABLE IF NOT EXISTS sites ("
	"  id TEXT PRIMARY KEY,"
	"  wan INTEGER NOT NULL,"
	"  udp_encap INTEGER NOT NULL,"
	"  software TEXT NOT NULL,"
	"  registered INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  view_version INTEGER NOT NULL,"
	"  rx_packets INTEGER NOT NULL DEFAULT 0,"
	"  tx_packets INTEGER NOT NULL DEFAULT 0,"
	"  drops INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS memberships ("
	"  grp INTEGER NOT NULL,"
	"  site TEXT NOT NULL REFERENCES sites(id),"
	"  roles INTEGER NOT NULL CHECK (roles BETWEEN 1 AND 3),"
	"  since INTEGER NOT NULL,"
	"  PRIMARY KEY (grp, site)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS memberships_by_site ON memberships(site, grp);"
	/* Pairwise SAs from_site -> to_site. A replacement starts inactive
	 * (in the receiver's view only) and becomes the sender's at
	 * activate_at; the SA it replaces is superseded and kept, in the
	 * receiver's view, until it expires. */
	"CREATE TABLE IF NOT EXISTS sas ("
	"  id INTEGER PRIMARY KEY,"
	"  from_site TEXT NOT NULL REFERENCES sites(id),"
	"  to_site TEXT NOT NULL REFERENCES sites(id),"
	"  spi INTEGER NOT NULL CHECK (spi >= 256),"
	"  aead INTEGER NOT NULL,"
	"  key BLOB NOT NULL,"
	"  salt BLOB NOT NULL,"
	"  esn INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  activate_at INTEGER NOT NULL,"
	"  activated INTEGER NOT NULL,"
	"  rekey_at INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  superseded INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (to_site, spi));"
	"CREATE INDEX IF NOT EXISTS sas_by_pair ON sas(from_site, to_site);"
	"CREATE INDEX IF NOT EXISTS sas_rekey ON sas(rekey_at) WHERE superseded = 0;"
	"CREATE INDEX IF NOT EXISTS sas_activate ON sas(activate_at) WHERE activated = 0;"
	"CREATE INDEX IF NOT EXISTS sas_expires ON sas(expires);"
	/* Group SAs: one per (sender, group) in force, held by the group's
	 * receivers. Same life as pairwise SAs; an SPI is unique among all
	 * SAs, since every receiver of the group finds it by SPI alone. */
	"CREATE TABLE IF NOT EXISTS group_sas ("
	"  id INTEGER PRIMARY KEY,"
	"  from_site TEXT NOT NULL REFERENCES sites(id),"
	"  grp INTEGER NOT NULL,"
	"  spi INTEGER NOT NULL UNIQUE CHECK (spi >= 256),"
	"  aead INTEGER NOT NULL,"
	"  key BLOB NOT NULL,"
	"  salt BLOB NOT NULL,"
	"  esn INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  activate_at INTEGER NOT NULL,"
	"  activated INTEGER NOT NULL,"
	"  rekey_at INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  superseded INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS group_sas_by_sender ON group_sas(from_site, grp);"
	"CREATE INDEX IF NOT EXISTS group_sas_by_group ON group_sas(grp);"
	"CREATE TABLE IF NOT EXISTS accounting ("
	"  id INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  site TEXT NOT NULL,"
	"  grp INTEGER NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('send', 'receive')),"
	"  action TEXT NOT NULL CHECK (action IN ('join', 'leave', 'deny')),"
	"  reason TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS accounting_by_time ON accounting(time);";

static const char *const store_sql[VNOCD_SQL_MAX] = {
	[VNOCD_SQL_BEGIN] = "BEGIN IMMEDIATE",
	[VNOCD_SQL_COMMIT] = "COMMIT",
	[VNOCD_SQL_ROLLBACK] = "ROLLBACK",
	[VNOCD_SQL_VERSION_GET] = "SELECT value FROM meta WHERE key = 'version'",
	[VNOCD_SQL_VERSION_SET] = "UPDATE meta SET value = ?1 WHERE key = 'version'",
	[VNOCD_SQL_SITE_GET] =
		"SELECT id, wan, udp_encap, software, registered, last_seen, view_version"
		" FROM sites WHERE id = ?1",
	[VNOCD_SQL_SITE_INSERT] =
		"INSERT INTO sites (id, wan, udp_encap, software, registered, last_seen,"
		" view_version) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
	[VNOCD_SQL_SITE_UPDATE] =
		"UPDATE sites SET wan = ?2, udp_encap = ?3, software = ?4, last_seen = ?5"
		" WHERE id = ?1",
	[VNOCD_SQL_SITE_HEARTBEAT] =
		"UPDATE sites SET last_seen = ?2, rx_packets = ?3, tx_packets = ?4, drops = ?5"
		" WHERE id = ?1",
	[VNOCD_SQL_SITE_VIEW_VERSION_SET] = "UPDATE sites SET view_version = ?2 WHERE id = ?1",
	[VNOCD_SQL_SITES_SILENT] =
		"SELECT id, max(last_seen, ?2) FROM sites WHERE max(last_seen, ?2) < ?1 ORDER BY id",
	[VNOCD_SQL_SITE_SAS_DELETE] = "DELETE FROM sas WHERE from_site = ?1 OR to_site = ?1",
	[VNOCD_SQL_SITE_DELETE] = "DELETE FROM sites WHERE id = ?1",
	[VNOCD_SQL_SITE_PEERS] =
		"SELECT DISTINCT b.site FROM memberships a JOIN memberships b ON b.grp = a.grp"
		" WHERE a.site = ?1",
	[VNOCD_SQL_MEMBERSHIP_GET] = "SELECT roles FROM memberships WHERE grp = ?2 AND site = ?1",
	[VNOCD_SQL_MEMBERSHIP_PUT] =
		"INSERT INTO memberships (grp, site, roles, since) VALUES (?2, ?1, ?3, ?4)"
		" ON CONFLICT (grp, site) DO UPDATE SET roles = excluded.roles",
	[VNOCD_SQL_MEMBERSHIP_DELETE] = "DELETE FROM memberships WHERE grp = ?2 AND site = ?1",
	[VNOCD_SQL_MEMBERSHIP_ALL] = "SELECT site, grp, roles FROM memberships ORDER BY site, grp",
	[VNOCD_SQL_SITE_GROUP_COUNT] = "SELECT count(*) FROM memberships WHERE site = ?1",
	[VNOCD_SQL_SITE_GROUPS] = "SELECT grp, roles FROM memberships WHERE site = ?1 ORDER BY grp",
	[VNOCD_SQL_GROUP_MEMBER_COUNT] = "SELECT count(*) FROM memberships WHERE grp = ?2",
	[VNOCD_SQL_GROUP_MEMBERS] =
		"SELECT m.site, m.roles, s.wan, s.udp_encap FROM memberships m"
		" JOIN sites s ON s.id = m.site WHERE m.grp = ?2 ORDER BY m.site",
	[VNOCD_SQL_GROUPS_ALL] = "SELECT DISTINCT grp FROM memberships ORDER BY grp",
	/* Does ?1 send, and ?2 receive, in some group they share? */
	[VNOCD_SQL_PAIR_NEEDED] =
		"SELECT 1 FROM memberships a JOIN memberships b ON b.grp = a.grp AND b.site = ?2"
		" WHERE a.site = ?1 AND (a.roles & 2) != 0 AND (b.roles & 1) != 0 LIMIT 1",
	[VNOCD_SQL_SA_CURRENT_EXISTS] =
		"SELECT 1 FROM sas WHERE from_site = ?1 AND to_site = ?2 AND superseded = 0 LIMIT 1",
	[VNOCD_SQL_SA_CURRENT_FROM] =
		"SELECT id, from_site, to_site FROM sas WHERE from_site = ?1 AND superseded = 0"
		" ORDER BY id",
	[VNOCD_SQL_SA_PENDING_TO] =
		"SELECT id, from_site FROM sas WHERE to_site = ?1 AND activated = 0"
		" AND superseded = 0 ORDER BY id",
	[VNOCD_SQL_SA_SPI_TAKEN] =
		"SELECT 1 FROM sas WHERE to_site = ?1 AND spi = ?2"
		" UNION ALL SELECT 1 FROM group_sas WHERE spi = ?2 LIMIT 1",
	[VNOCD_SQL_SPI_TAKEN_ANYWHERE] =
		"SELECT 1 FROM sas WHERE spi = ?2 UNION ALL SELECT 1 FROM group_sas WHERE spi = ?2"
		" LIMIT 1",
	[VNOCD_SQL_GSA_CURRENT_EXISTS] =
		"SELECT 1 FROM group_sas WHERE from_site = ?1 AND grp = ?2 AND superseded = 0 LIMIT 1",
	[VNOCD_SQL_GSA_INSERT] =
		"INSERT INTO group_sas (from_site, grp, spi, aead, key, salt, esn, created,"
		" activate_at, activated, rekey_at, expires)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[VNOCD_SQL_GSA_CURRENT_OF_GROUP] =
		"SELECT id, from_site, grp FROM group_sas WHERE grp = ?1 AND superseded = 0 ORDER BY id",
	[VNOCD_SQL_GSA_CURRENT_FROM] =
		"SELECT id, from_site, grp FROM group_sas WHERE from_site = ?1 AND superseded = 0"
		" ORDER BY id",
	[VNOCD_SQL_GSA_RECEIVERS] =
		"SELECT count(*) FROM memberships WHERE grp = ?1 AND site != ?2 AND (roles & 1) != 0",
	[VNOCD_SQL_GSA_SUPERSEDE_BY] =
		"UPDATE group_sas SET superseded = 1, expires = min(expires, ?2) WHERE id = ?1",
	[VNOCD_SQL_GSA_DELETE_SENDER] = "DELETE FROM group_sas WHERE from_site = ?1 AND grp = ?2",
	[VNOCD_SQL_GSA_DELETE_SITE] = "DELETE FROM group_sas WHERE from_site = ?1",
	[VNOCD_SQL_GSA_REKEY_DUE] =
		"SELECT id, from_site, grp, expires FROM group_sas"
		" WHERE superseded = 0 AND rekey_at <= ?1 ORDER BY id",
	[VNOCD_SQL_GSA_ACTIVATE_DUE] =
		"SELECT id, from_site, grp FROM group_sas WHERE activated = 0 AND activate_at <= ?1"
		" ORDER BY id",
	[VNOCD_SQL_GSA_ACTIVATE] = "UPDATE group_sas SET activated = 1 WHERE id = ?1",
	[VNOCD_SQL_GSA_EXPIRED] =
		"SELECT id, from_site, grp FROM group_sas WHERE expires <= ?1 ORDER BY id",
	[VNOCD_SQL_GSA_DELETE] = "DELETE FROM group_sas WHERE id = ?1",
	/* What a site receives: the SAs of every group it receives, from
	 * every other sender, the pending and the superseded included. */
	[VNOCD_SQL_GSA_INBOUND] =
		"SELECT g.from_site, g.spi, g.aead, g.key, g.salt, g.esn, g.expires, g.grp"
		" FROM group_sas g JOIN memberships m ON m.grp = g.grp AND m.site = ?1"
		" WHERE (m.roles & 1) != 0 AND g.from_site != ?1 AND g.expires > ?2"
		" ORDER BY g.from_site, g.grp, g.id",
	/* Newest first: the view takes the first row per group. */
	[VNOCD_SQL_GSA_OUTBOUND] =
		"SELECT g.from_site, g.spi, g.aead, g.key, g.salt, g.esn, g.expires, g.grp"
		" FROM group_sas g WHERE g.from_site = ?1 AND g.activated = 1 AND g.expires > ?2"
		" ORDER BY g.grp, g.id DESC",
	[VNOCD_SQL_SA_INSERT] =
		"INSERT INTO sas (from_site, to_site, spi, aead, key, salt, esn, created,"
		" activate_at, activated, rekey_at, expires)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[VNOCD_SQL_SA_DELETE_PAIR] = "DELETE FROM sas WHERE from_site = ?1 AND to_site = ?2",
	[VNOCD_SQL_SA_COUNT_CURRENT] =
		"SELECT (SELECT count(*) FROM sas WHERE from_site = ?1 AND superseded = 0)"
		" + (SELECT count(*) FROM sas WHERE to_site = ?1 AND superseded = 0)",
	[VNOCD_SQL_SA_INBOUND] =
		"SELECT from_site, spi, aead, key, salt, esn, expires FROM sas"
		" WHERE to_site = ?1 AND expires > ?2 ORDER BY from_site, id",
	/* Newest first: the view takes the first row per peer. */
	[VNOCD_SQL_SA_OUTBOUND] =
		"SELECT to_site, spi, aead, key, salt, esn, expires FROM sas"
		" WHERE from_site = ?1 AND activated = 1 AND expires > ?2"
		" ORDER BY to_site, id DESC",
	[VNOCD_SQL_SA_REKEY_DUE] =
		"SELECT id, from_site, to_site, expires FROM sas"
		" WHERE superseded = 0 AND rekey_at <= ?1 ORDER BY id",
	[VNOCD_SQL_SA_SUPERSEDE] = "UPDATE sas SET superseded = 1 WHERE id = ?1",
	[VNOCD_SQL_SA_ACTIVATE_DUE] =
		"SELECT id, from_site FROM sas WHERE activated = 0 AND activate_at <= ?1 ORDER BY id",
	[VNOCD_SQL_SA_ACTIVATE] = "UPDATE sas SET activated = 1 WHERE id = ?1",
	[VNOCD_SQL_SA_EXPIRED] =
		"SELECT id, from_site, to_site, expires, superseded FROM sas WHERE expires <= ?1"
		" ORDER BY id",
	[VNOCD_SQL_SA_DELETE] = "DELETE FROM sas WHERE id = ?1",
	[VNOCD_SQL_SA_NEXT_EVENT] =
		"SELECT min(t) FROM ("
		" SELECT min(rekey_at) AS t FROM sas WHERE superseded = 0"
		" UNION ALL SELECT min(activate_at) FROM sas WHERE activated = 0"
		" UNION ALL SELECT min(expires) FROM sas"
		" UNION ALL SELECT min(rekey_at) FROM group_sas WHERE superseded = 0"
		" UNION ALL SELECT min(activate_at) FROM group_sas WHERE activated = 0"
		" UNION ALL SELECT min(expires) FROM group_sas)",
	[VNOCD_SQL_SA_OF_SENDER_SPI] =
		"SELECT id, from_site, to_site, expires, superseded FROM sas"
		" WHERE from_site = ?1 AND spi = ?2 AND activated = 1 ORDER BY id",
	[VNOCD_SQL_GSA_OF_SENDER_SPI] =
		"SELECT id, from_site, grp, expires, superseded FROM group_sas"
		" WHERE from_site = ?1 AND spi = ?2 AND activated = 1 ORDER BY id",
	[VNOCD_SQL_ACCOUNTING_ADD] =
		"INSERT INTO accounting (time, site, grp, role, action, reason)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[VNOCD_SQL_ACCOUNTING_SINCE] =
		"SELECT time, site, grp, role, action, reason FROM accounting"
		" WHERE time >= ?1 ORDER BY id",
};

static int
store_pragma(struct vnocd_store *st, const char *sql, const char *want, char *err,
	     size_t err_len)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, err_len, "%s: %s: %s", st->path, sql, sqlite3_errmsg(st->db));
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, err_len, "%s: %s: %s", st->path, sql, sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
		return -1;
	}
	if (want != NULL && (rc != SQLITE_ROW || sqlite3_column_text(s, 0) == NULL ||
			     strcmp((const char *)sqlite3_column_text(s, 0), want) != 0)) {
		snprintf(err, err_len, "%s: %s did not give %s", st->path, sql, want);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

int
vnocd_store_open(struct vnocd_store *st, const char *path, bool read_only, char *err,
		 size_t err_len)
{
	int flags = read_only ? SQLITE_OPEN_READWRITE
			      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	mode_t old_mask;
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(st->path, sizeof(st->path), "%s", path);
	/* Keys are in this file: owner only. */
	old_mask = umask(077);
	rc = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_FULLMUTEX, NULL);
	umask(old_mask);
	if (rc != SQLITE_OK) {
		snprintf(err, err_len, "%s: %s", path,
			 st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		vnocd_store_close(st);
		return -1;
	}
	sqlite3_busy_timeout(st->db, 5000);
	if (store_pragma(st, "PRAGMA journal_mode=WAL", "wal", err, err_len) < 0 ||
	    store_pragma(st, "PRAGMA synchronous=FULL", NULL, err, err_len) < 0 ||
	    store_pragma(st, "PRAGMA foreign_keys=ON", NULL, err, err_len) < 0) {
		vnocd_store_close(st);
		return -1;
	}
	if (read_only) {
		if (store_pragma(st, "PRAGMA query_only=ON", NULL, err, err_len) < 0) {
			vnocd_store_close(st);
			return -1;
		}
	} else {
		char *msg = NULL;

		if (sqlite3_exec(st->db, store_schema, NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, err_len, "%s: schema: %s", path, msg ? msg : "?");
			sqlite3_free(msg);
			vnocd_store_close(st);
			return -1;
		}
	}
	for (int i = 0; i < VNOCD_SQL_MAX; i++) {
		if (sqlite3_prepare_v3(st->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			snprintf(err, err_len, "%s: not a vnocd database (%s)", path,
				 sqlite3_errmsg(st->db));
			vnocd_store_close(st);
			return -1;
		}
	}
	return 0;
}

void
vnocd_store_close(struct vnocd_store *st)
{
	for (int i = 0; i < VNOCD_SQL_MAX; i++) {
		sqlite3_finalize(st->stmt[i]);
		st->stmt[i] = NULL;
	}
	if (st->db != NULL)
		sqlite3_close(st->db);
	st->db = NULL;
}

sqlite3_stmt *
vnocd_store_stmt(struct vnocd_store *st, enum vnocd_sql id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int
vnocd_store_exec(struct vnocd_store *st, sqlite3_stmt *s)
{
	int rc;

	(void)st;
	do
		rc = sqlite3_step(s);
	while (rc == SQLITE_ROW);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

const char *
vnocd_store_error(const struct vnocd_store *st)
{
	return sqlite3_errmsg(st->db);
}

int
vnocd_store_begin(struct vnocd_store *st)
{
	return vnocd_store_exec(st, vnocd_store_stmt(st, VNOCD_SQL_BEGIN));
}

int
vnocd_store_commit(struct vnocd_store *st)
{
	return vnocd_store_exec(st, vnocd_store_stmt(st, VNOCD_SQL_COMMIT));
}

void
vnocd_store_rollback(struct vnocd_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		vnocd_store_exec(st, vnocd_store_stmt(st, VNOCD_SQL_ROLLBACK));
}

int
vnocd_store_version(struct vnocd_store *st, uint64_t *version)
{
	sqlite3_stmt *s = vnocd_store_stmt(st, VNOCD_SQL_VERSION_GET);
	int rc = sqlite3_step(s);

	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return -1;
	}
	*version = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}

int
vnocd_store_site_get(struct vnocd_store *st, const char *id, struct vnocd_site *site)
{
	sqlite3_stmt *s = vnocd_store_stmt(st, VNOCD_SQL_SITE_GET);
	int rc;

	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return -1;
	}
	memset(site, 0, sizeof(*site));
	snprintf(site->id, sizeof(site->id), "%s", (const char *)sqlite3_column_text(s, 0));
	site->wan_addr = htonl((uint32_t)sqlite3_column_int64(s, 1));
	site->udp_encap = sqlite3_column_int(s, 2) != 0;
	snprintf(site->software, sizeof(site->software), "%s",
		 (const char *)sqlite3_column_text(s, 3));
	site->registered = sqlite3_column_int64(s, 4);
	site->last_seen = sqlite3_column_int64(s, 5);
	site->view_version = (uint64_t)sqlite3_column_int64(s, 6);
	sqlite3_reset(s);
	return 0;
}

int
vnocd_store_membership_get(struct vnocd_store *st, const char *site, uint32_t group,
			   uint8_t *roles)
{
	sqlite3_stmt *s = vnocd_store_stmt(st, VNOCD_SQL_MEMBERSHIP_GET);
	int rc;

	sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ntohl(group));
	rc = sqlite3_step(s);
	*roles = 0;
	if (rc == SQLITE_ROW)
		*roles = (uint8_t)sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : -1;
}

/* A count(*) statement whose ?1 is a site and ?2 a group (either unused). */
int
vnocd_store_count(struct vnocd_store *st, enum vnocd_sql id, const char *site, uint32_t group,
		  uint32_t *n)
{
	sqlite3_stmt *s = vnocd_store_stmt(st, id);
	int rc;

	if (site != NULL)
		sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, ntohl(group));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = (uint32_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : -1;
}
