/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A site's view (doc/vnoc.xsd ViewType):
 *
 *   <view><version/> <group>* <sa>*</view>
 *   <group><address/><saMode/><member>*</group>
 *   <member><site/><wanAddress/><udpEncap/><roles/></member>
 *   <sa><direction/><peer/><spi/><aead/><key/><salt/><esn/><lifetimeSeconds/><group/>?</sa>
 */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "vnoc_private.h"

static void
member_write(struct soap_writer *w, xmlNodePtr parent, const struct vnoc_member *m)
{
	xmlNodePtr el = soap_write_element(w, parent, "member");

	soap_write_text(w, el, "site", m->site);
	soap_write_ipv4(w, el, "wanAddress", m->wan_addr);
	soap_write_bool(w, el, "udpEncap", m->udp_encap);
	vnoc_write_roles(w, el, "roles", m->roles);
}

static int
member_read(struct soap_reader *parent, struct vnoc_member *m)
{
	xmlNodePtr el = soap_read_element(parent, "member");
	struct soap_reader r;

	if (el == NULL || soap_reader_init(&r, el, VNOC_NS, parent->err, parent->err_len) < 0)
		return -1;
	if (vnoc_read_site(&r, "site", m->site) < 0 ||
	    vnoc_read_unicast(&r, "wanAddress", &m->wan_addr) < 0 ||
	    soap_read_bool(&r, "udpEncap", &m->udp_encap) < 0 ||
	    vnoc_read_roles(&r, "roles", &m->roles, false) < 0)
		return -1;
	return soap_reader_end(&r);
}

static int
compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
compare_site(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first value that appears twice, or -1. Sorts vals. */
static int64_t
u32_duplicate(uint32_t *vals, uint32_t n)
{
	qsort(vals, n, sizeof(vals[0]), compare_u32);
	for (uint32_t i = 1; i < n; i++)
		if (vals[i] == vals[i - 1])
			return vals[i];
	return -1;
}

static int
group_read(struct soap_reader *parent, struct vnoc_group *g)
{
	xmlNodePtr el = soap_read_element(parent, "group");
	struct soap_reader r;
	unsigned int mode, n;
	const char **sites;

	if (el == NULL || soap_reader_init(&r, el, VNOC_NS, parent->err, parent->err_len) < 0)
		return -1;
	if (vnoc_read_group(&r, "address", &g->group) < 0 ||
	    vnoc_read_enum(&r, "saMode", vnoc_sa_mode_names, 2, &mode) < 0)
		return -1;
	g->sa_mode = (enum vnoc_sa_mode)mode;
	n = soap_reader_count(&r, "member", VNOC_MAX_MEMBERS);
	if (n > VNOC_MAX_MEMBERS)
		return soap_reader_fail(&r, "more than %u <member>", VNOC_MAX_MEMBERS);
	if (n == 0)
		return soap_reader_end(&r);
	g->members = calloc(n, sizeof(g->members[0]));
	sites = malloc(n * sizeof(sites[0]));
	if (g->members == NULL || sites == NULL) {
		free(sites);
		return soap_reader_fail(&r, "out of memory");
	}
	for (; g->n_members < n; g->n_members++) {
		if (member_read(&r, &g->members[g->n_members]) < 0) {
			free(sites);
			return -1;
		}
		sites[g->n_members] = g->members[g->n_members].site;
	}
	qsort(sites, n, sizeof(sites[0]), compare_site);
	for (unsigned int i = 1; i < n; i++) {
		if (strcmp(sites[i], sites[i - 1]) == 0) {
			soap_reader_fail(&r, "site '%s' is a member twice", sites[i]);
			free(sites);
			return -1;
		}
	}
	free(sites);
	return soap_reader_end(&r);
}

void
vnoc_groups_write(struct soap_writer *w, xmlNodePtr parent, const struct vnoc_group *groups,
		  uint32_t n)
{
	for (uint32_t i = 0; i < n && !w->failed; i++) {
		const struct vnoc_group *g = &groups[i];
		xmlNodePtr el = soap_write_element(w, parent, "group");

		soap_write_ipv4(w, el, "address", g->group);
		soap_write_text(w, el, "saMode",
				g->sa_mode == VNOC_SA_GROUP ? "group" : "pairwise");
		for (uint16_t m = 0; m < g->n_members; m++)
			member_write(w, el, &g->members[m]);
	}
}

void
vnoc_groups_free(struct vnoc_group *groups, uint32_t n)
{
	if (groups == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		free(groups[i].members);
	free(groups);
}

int
vnoc_groups_read(struct soap_reader *r, struct vnoc_group **groups, uint32_t *n_groups)
{
	unsigned int n = soap_reader_count(r, "group", VNOC_MAX_GROUPS);
	struct vnoc_group *g;
	uint32_t *addresses;
	int64_t dup;

	*groups = NULL;
	*n_groups = 0;
	if (n > VNOC_MAX_GROUPS)
		return soap_reader_fail(r, "more than %u <group>", VNOC_MAX_GROUPS);
	if (n == 0)
		return 0;
	g = calloc(n, sizeof(g[0]));
	if (g == NULL)
		return soap_reader_fail(r, "out of memory");
	*groups = g;
	/* The caller frees what was read, member lists included, on failure:
	 * *n_groups counts the groups whose lists are to be freed. */
	for (unsigned int i = 0; i < n; i++) {
		(*n_groups)++;
		if (group_read(r, &g[i]) < 0)
			return -1;
	}
	addresses = malloc(n * sizeof(addresses[0]));
	if (addresses == NULL)
		return soap_reader_fail(r, "out of memory");
	for (unsigned int i = 0; i < n; i++)
		addresses[i] = g[i].group;
	dup = u32_duplicate(addresses, n);
	free(addresses);
	if (dup >= 0) {
		uint32_t a = ntohl((uint32_t)dup);

		return soap_reader_fail(r, "group %u.%u.%u.%u is listed twice", a >> 24,
					(a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	}
	return 0;
}

static void
sa_write(struct soap_writer *w, xmlNodePtr parent, const struct vnoc_sa *sa)
{
	xmlNodePtr el = soap_write_element(w, parent, "sa");

	soap_write_text(w, el, "direction", sa->inbound ? "inbound" : "outbound");
	soap_write_text(w, el, "peer", sa->peer);
	soap_write_uint32(w, el, "spi", sa->spi);
	soap_write_text(w, el, "aead", sa->aead < 2 ? vnoc_aead_names[sa->aead] : "unknown");
	soap_write_hex(w, el, "key", sa->key, sa->key_len <= sizeof(sa->key) ? sa->key_len : 0);
	soap_write_hex(w, el, "salt", sa->salt, sizeof(sa->salt));
	soap_write_bool(w, el, "esn", sa->esn);
	soap_write_uint64(w, el, "lifetimeSeconds", sa->lifetime_s);
	if (sa->group != 0)
		soap_write_ipv4(w, el, "group", sa->group);
}

static const char *const direction_names[2] = { "outbound", "inbound" };

static int
sa_read(struct soap_reader *parent, struct vnoc_sa *sa)
{
	xmlNodePtr el = soap_read_element(parent, "sa");
	struct soap_reader r;
	unsigned int inbound, aead;
	size_t key_len, salt_len;

	if (el == NULL || soap_reader_init(&r, el, VNOC_NS, parent->err, parent->err_len) < 0)
		return -1;
	if (vnoc_read_enum(&r, "direction", direction_names, 2, &inbound) < 0 ||
	    vnoc_read_site(&r, "peer", sa->peer) < 0 ||
	    soap_read_uint32(&r, "spi", &sa->spi) < 0)
		return -1;
	/* RFC 4303 section 2.1: SPIs 1 to 255 are reserved, 0 is local. */
	if (sa->spi < 256)
		return soap_reader_fail(&r, "<spi> %u is below 256", sa->spi);
	if (vnoc_read_enum(&r, "aead", vnoc_aead_names, 2, &aead) < 0 ||
	    soap_read_hex(&r, "key", sa->key, sizeof(sa->key), &key_len) < 0)
		return -1;
	/* RFC 4106 section 8.1: 16 or 32 bytes of AES key, then 4 of salt. */
	if (key_len != (aead == 1 ? 32u : 16u))
		return soap_reader_fail(&r, "<key> of %zu bytes for %s, which needs %u", key_len,
					vnoc_aead_names[aead], aead == 1 ? 32 : 16);
	if (soap_read_hex(&r, "salt", sa->salt, sizeof(sa->salt), &salt_len) < 0)
		return -1;
	if (salt_len != sizeof(sa->salt))
		return soap_reader_fail(&r, "<salt> of %zu bytes, not 4", salt_len);
	if (soap_read_bool(&r, "esn", &sa->esn) < 0 ||
	    soap_read_uint64(&r, "lifetimeSeconds", &sa->lifetime_s) < 0)
		return -1;
	sa->group = 0;
	if (soap_reader_at(&r, "group") && vnoc_read_group(&r, "group", &sa->group) < 0)
		return -1;
	sa->inbound = inbound == 1;
	sa->aead = (uint8_t)aead;
	sa->key_len = (uint8_t)key_len;
	return soap_reader_end(&r);
}

void
vnoc_view_write(struct soap_writer *w, xmlNodePtr parent, const struct vnoc_view *view)
{
	xmlNodePtr el = soap_write_element(w, parent, "view");

	soap_write_uint64(w, el, "version", view->version);
	vnoc_groups_write(w, el, view->groups, view->n_groups);
	for (uint32_t i = 0; i < view->n_sas && !w->failed; i++)
		sa_write(w, el, &view->sas[i]);
}

/* SPI picks the inbound SA: two inbound SAs of one view must differ. */
static int
sas_check(struct soap_reader *r, const struct vnoc_view *view)
{
	uint32_t *spis = malloc((view->n_sas + 1) * sizeof(spis[0]));
	uint32_t n = 0;
	int64_t dup;

	if (spis == NULL)
		return soap_reader_fail(r, "out of memory");
	for (uint32_t i = 0; i < view->n_sas; i++)
		if (view->sas[i].inbound)
			spis[n++] = view->sas[i].spi;
	dup = u32_duplicate(spis, n);
	free(spis);
	if (dup >= 0)
		return soap_reader_fail(r, "two inbound SAs with SPI %u", (uint32_t)dup);
	return 0;
}

int
vnoc_view_read(struct soap_reader *parent, struct vnoc_view *view)
{
	xmlNodePtr el = soap_read_element(parent, "view");
	struct soap_reader r;
	unsigned int n;

	if (el == NULL || soap_reader_init(&r, el, VNOC_NS, parent->err, parent->err_len) < 0)
		return -1;
	if (soap_read_uint64(&r, "version", &view->version) < 0 ||
	    vnoc_groups_read(&r, &view->groups, &view->n_groups) < 0)
		return -1;
	n = soap_reader_count(&r, "sa", VNOC_MAX_SAS);
	if (n > VNOC_MAX_SAS)
		return soap_reader_fail(&r, "more than %u <sa>", VNOC_MAX_SAS);
	if (n > 0) {
		view->sas = calloc(n, sizeof(view->sas[0]));
		if (view->sas == NULL)
			return soap_reader_fail(&r, "out of memory");
		for (; view->n_sas < n; view->n_sas++)
			if (sa_read(&r, &view->sas[view->n_sas]) < 0)
				return -1;
		if (sas_check(&r, view) < 0)
			return -1;
	}
	return soap_reader_end(&r);
}

void
vnoc_view_release(struct vnoc_view *view)
{
	if (view == NULL)
		return;
	vnoc_groups_free(view->groups, view->n_groups);
	free(view->sas);
	view->groups = NULL;
	view->sas = NULL;
	view->n_groups = 0;
	view->n_sas = 0;
}
