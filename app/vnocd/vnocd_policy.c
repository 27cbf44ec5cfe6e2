/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy file (doc/policy.rst): which sites may send and/or receive
 * which groups, the SA mode per group, and limits. A policy is parsed whole
 * into a new structure and never changed afterwards: a reload swaps the
 * pointer (vnocd_ops_policy_swap), and a file with any bad line is refused
 * whole, leaving the policy in force untouched.
 *
 * Decision, per role: among the rules naming the role whose prefix holds
 * the group and whose site is the site or "*", the longest prefix wins; on
 * equal prefixes a rule naming the site beats "*", and then deny beats
 * allow. No matching rule: denied.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vnocd.h"

#define POLICY_FILE_MAX (16u << 20)
#define POLICY_LINE_MAX 1024
#define POLICY_RULES_MAX 1000000
#define POLICY_WORDS_MAX 8

struct policy_rule {
	bool allow;
	bool any_site;
	char site[VNOC_SITE_ID_MAX];
	uint8_t roles;
	uint32_t prefix;                /* host order */
	uint8_t len;
	unsigned int line;
};

struct policy_mode {
	uint32_t prefix;                /* host order */
	uint8_t len;
	enum vnoc_sa_mode mode;
};

struct vnocd_policy {
	char path[256];
	struct policy_rule *rules;
	unsigned int n_rules;
	unsigned int cap_rules;
	struct policy_mode *modes;
	unsigned int n_modes;
	unsigned int cap_modes;
	uint32_t max_groups_per_site;
	uint32_t max_sites_per_group;
	bool have_max_groups;
	bool have_max_sites;
};

static bool
policy_prefix_holds(uint32_t prefix, uint8_t len, uint32_t addr)
{
	uint32_t mask = len == 0 ? 0 : 0xffffffffu << (32 - len);

	return (addr & mask) == prefix;
}

/* "A.B.C.D" or "A.B.C.D/LEN", within 224.0.0.0/4, no host bits. */
static int
policy_prefix_parse(const char *text, uint32_t *prefix, uint8_t *len, char *err, size_t err_len)
{
	char addr[32];
	const char *slash = strchr(text, '/');
	struct in_addr in;
	unsigned long n = 32;

	if (slash != NULL) {
		char *end;

		if ((size_t)(slash - text) >= sizeof(addr)) {
			snprintf(err, err_len, "'%s' is not an address prefix", text);
			return -1;
		}
		memcpy(addr, text, (size_t)(slash - text));
		addr[slash - text] = '\0';
		errno = 0;
		n = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0 || n > 32) {
			snprintf(err, err_len, "'%s': prefix length must be 4..32", text);
			return -1;
		}
	} else {
		snprintf(addr, sizeof(addr), "%s", text);
	}
	if (inet_pton(AF_INET, addr, &in) != 1) {
		snprintf(err, err_len, "'%s' is not an IPv4 address prefix", text);
		return -1;
	}
	if (n < 4 || (ntohl(in.s_addr) >> 28) != 0xe) {
		snprintf(err, err_len, "'%s' is not within 224.0.0.0/4 (multicast)", text);
		return -1;
	}
	if (!policy_prefix_holds(ntohl(in.s_addr), (uint8_t)n, ntohl(in.s_addr)) ||
	    (n < 32 && (ntohl(in.s_addr) & (0xffffffffu >> n)) != 0)) {
		snprintf(err, err_len, "'%s' has bits set after the prefix length", text);
		return -1;
	}
	*prefix = ntohl(in.s_addr);
	*len = (uint8_t)n;
	return 0;
}

static int
policy_number_parse(const char *text, uint32_t min, uint32_t max, uint32_t *v, char *err,
		    size_t err_len)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || n < min || n > max) {
		snprintf(err, err_len, "'%s' is not a number from %u to %u", text, min, max);
		return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

static int
policy_rule_parse(struct vnocd_policy *p, char **w, unsigned int n, unsigned int line,
		  char *err, size_t err_len)
{
	struct policy_rule r = { .line = line };

	if (n != 5 || strcmp(w[1], "site") != 0) {
		snprintf(err, err_len, "expected '%s site SITE|* send|receive|both PREFIX'", w[0]);
		return -1;
	}
	r.allow = strcmp(w[0], "allow") == 0;
	if (strcmp(w[2], "*") == 0) {
		r.any_site = true;
	} else if (vnoc_site_id_valid(w[2])) {
		snprintf(r.site, sizeof(r.site), "%s", w[2]);
	} else {
		snprintf(err, err_len, "'%s' is not a site id ([A-Za-z0-9._-]{1,31}) or *", w[2]);
		return -1;
	}
	if (strcmp(w[3], "send") == 0) {
		r.roles = VNOC_ROLE_SENDER;
	} else if (strcmp(w[3], "receive") == 0) {
		r.roles = VNOC_ROLE_RECEIVER;
	} else if (strcmp(w[3], "both") == 0) {
		r.roles = VNOC_ROLE_SENDER | VNOC_ROLE_RECEIVER;
	} else {
		snprintf(err, err_len, "'%s': the role is send, receive or both", w[3]);
		return -1;
	}
	if (policy_prefix_parse(w[4], &r.prefix, &r.len, err, err_len) < 0)
		return -1;
	if (p->n_rules == POLICY_RULES_MAX) {
		snprintf(err, err_len, "more than %u rules", POLICY_RULES_MAX);
		return -1;
	}
	if (p->n_rules == p->cap_rules) {
		unsigned int cap = p->cap_rules ? p->cap_rules * 2 : 64;
		struct policy_rule *rules = realloc(p->rules, cap * sizeof(*rules));

		if (rules == NULL) {
			snprintf(err, err_len, "out of memory");
			return -1;
		}
		p->rules = rules;
		p->cap_rules = cap;
	}
	p->rules[p->n_rules++] = r;
	return 0;
}

static int
policy_mode_parse(struct vnocd_policy *p, char **w, unsigned int n, char *err, size_t err_len)
{
	struct policy_mode m;

	if (n != 3) {
		snprintf(err, err_len, "expected 'sa-mode PREFIX pairwise|group'");
		return -1;
	}
	if (policy_prefix_parse(w[1], &m.prefix, &m.len, err, err_len) < 0)
		return -1;
	if (strcmp(w[2], "pairwise") == 0) {
		m.mode = VNOC_SA_PAIRWISE;
	} else if (strcmp(w[2], "group") == 0) {
		/* design.md 4: one SA per (sender, group), distributed to the
		 * receivers (vnocd_group_keys.c). */
		m.mode = VNOC_SA_GROUP;
	} else {
		snprintf(err, err_len, "'%s': the SA mode is pairwise or group", w[2]);
		return -1;
	}
	for (unsigned int i = 0; i < p->n_modes; i++) {
		if (p->modes[i].prefix == m.prefix && p->modes[i].len == m.len) {
			snprintf(err, err_len, "sa-mode for %s given twice", w[1]);
			return -1;
		}
	}
	if (p->n_modes == p->cap_modes) {
		unsigned int cap = p->cap_modes ? p->cap_modes * 2 : 16;
		struct policy_mode *modes = realloc(p->modes, cap * sizeof(*modes));

		if (modes == NULL) {
			snprintf(err, err_len, "out of memory");
			return -1;
		}
		p->modes = modes;
		p->cap_modes = cap;
	}
	p->modes[p->n_modes++] = m;
	return 0;
}

static int
policy_line_parse(struct vnocd_policy *p, char *text, unsigned int line, char *err,
		  size_t err_len)
{
	char *w[POLICY_WORDS_MAX];
	unsigned int n = 0;
	char *hash = strchr(text, '#');
	char *save = NULL;

	if (hash != NULL)
		*hash = '\0';
	for (char *t = strtok_r(text, " \t\r\n", &save); t != NULL;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == POLICY_WORDS_MAX) {
			snprintf(err, err_len, "too many words");
			return -1;
		}
		w[n++] = t;
	}
	if (n == 0)
		return 0;
	if (strcmp(w[0], "allow") == 0 || strcmp(w[0], "deny") == 0)
		return policy_rule_parse(p, w, n, line, err, err_len);
	if (strcmp(w[0], "sa-mode") == 0)
		return policy_mode_parse(p, w, n, err, err_len);
	if (strcmp(w[0], "max-groups-per-site") == 0 || strcmp(w[0], "max-sites-per-group") == 0) {
		bool groups = w[0][4] == 'g';
		bool *have = groups ? &p->have_max_groups : &p->have_max_sites;

		if (n != 2) {
			snprintf(err, err_len, "expected '%s N'", w[0]);
			return -1;
		}
		if (*have) {
			snprintf(err, err_len, "%s given twice", w[0]);
			return -1;
		}
		*have = true;
		return groups ? policy_number_parse(w[1], 1, VNOC_MAX_GROUPS,
						    &p->max_groups_per_site, err, err_len)
			      : policy_number_parse(w[1], 2, VNOC_MAX_MEMBERS,
						    &p->max_sites_per_group, err, err_len);
	}
	snprintf(err, err_len, "unknown keyword '%s'", w[0]);
	return -1;
}

struct vnocd_policy *
vnocd_policy_load(const char *path, char *err, size_t err_len)
{
	struct vnocd_policy *p = calloc(1, sizeof(*p));
	char why[VNOCD_REASON_MAX];
	char *buf = NULL;
	size_t cap = 0;
	unsigned int line = 0;
	struct stat sb;
	ssize_t len;
	FILE *f;

	if (p == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		return NULL;
	}
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->max_groups_per_site = VNOC_MAX_GROUPS;
	p->max_sites_per_group = VNOC_MAX_MEMBERS;
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		free(p);
		return NULL;
	}
	if (fstat(fileno(f), &sb) == 0 && sb.st_size > (off_t)POLICY_FILE_MAX) {
		snprintf(err, err_len, "%s: larger than %u bytes", path, POLICY_FILE_MAX);
		goto fail;
	}
	while ((len = getline(&buf, &cap, f)) >= 0) {
		line++;
		if (len > POLICY_LINE_MAX) {
			snprintf(err, err_len, "%s:%u: line longer than %u bytes", path, line,
				 POLICY_LINE_MAX);
			goto fail;
		}
		if (strlen(buf) != (size_t)len) {
			snprintf(err, err_len, "%s:%u: NUL byte in line", path, line);
			goto fail;
		}
		if (policy_line_parse(p, buf, line, why, sizeof(why)) < 0) {
			snprintf(err, err_len, "%s:%u: %s", path, line, why);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(buf);
	fclose(f);
	return p;
fail:
	free(buf);
	fclose(f);
	vnocd_policy_free(p);
	return NULL;
}

void
vnocd_policy_free(struct vnocd_policy *p)
{
	if (p == NULL)
		return;
	free(p->rules);
	free(p->modes);
	free(p);
}

/* Is a better than b as the deciding rule? */
static bool
policy_rule_better(const struct policy_rule *a, const struct policy_rule *b)
{
	if (b == NULL)
		return true;
	if (a->len != b->len)
		return a->len > b->len;
	if (a->any_site != b->any_site)
		return !a->any_site;
	return !a->allow && b->allow;
}

uint8_t
vnocd_policy_roles(const struct vnocd_policy *p, const char *site, uint32_t group, char *why,
		   size_t why_len)
{
	static const uint8_t roles[] = { VNOC_ROLE_SENDER, VNOC_ROLE_RECEIVER };
	uint32_t g = ntohl(group);
	uint8_t allowed = 0;
	size_t off = 0;

	if (why != NULL && why_len > 0)
		why[0] = '\0';
	for (unsigned int k = 0; k < 2; k++) {
		const struct policy_rule *best = NULL;

		for (unsigned int i = 0; i < p->n_rules; i++) {
			const struct policy_rule *r = &p->rules[i];

			if (!(r->roles & roles[k]) || !policy_prefix_holds(r->prefix, r->len, g) ||
			    (!r->any_site && strcmp(r->site, site) != 0))
				continue;
			if (policy_rule_better(r, best))
				best = r;
		}
		if (best != NULL && best->allow) {
			allowed |= roles[k];
			continue;
		}
		if (why == NULL || off >= why_len)
			continue;
		if (best == NULL) {
			off += (size_t)snprintf(why + off, why_len - off, "%sno rule allows %s",
						off ? "; " : "", vnocd_roles_str(roles[k]));
		} else {
			struct in_addr in = { .s_addr = htonl(best->prefix) };
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &in, a, sizeof(a));
			off += (size_t)snprintf(why + off, why_len - off,
						"%s%s denied by %s:%u (deny site %s %s %s/%u)",
						off ? "; " : "", vnocd_roles_str(roles[k]), p->path,
						best->line, best->any_site ? "*" : best->site,
						vnocd_roles_str(best->roles), a, best->len);
		}
	}
	return allowed;
}

enum vnoc_sa_mode
vnocd_policy_sa_mode(const struct vnocd_policy *p, uint32_t group)
{
	uint32_t g = ntohl(group);
	const struct policy_mode *best = NULL;

	for (unsigned int i = 0; i < p->n_modes; i++) {
		const struct policy_mode *m = &p->modes[i];

		if (policy_prefix_holds(m->prefix, m->len, g) && (best == NULL || m->len > best->len))
			best = m;
	}
	return best != NULL ? best->mode : VNOC_SA_PAIRWISE;
}

uint32_t
vnocd_policy_max_groups_per_site(const struct vnocd_policy *p)
{
	return p->max_groups_per_site;
}

uint32_t
vnocd_policy_max_sites_per_group(const struct vnocd_policy *p)
{
	return p->max_sites_per_group;
}

unsigned int
vnocd_policy_rule_count(const struct vnocd_policy *p)
{
	return p->n_rules;
}
