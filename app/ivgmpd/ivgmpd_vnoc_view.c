/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VNOC's view of this site's VPN (remote sites per group, SAs) turned
 * into what the forwarding snapshot is built from. SAs live across views:
 * one whose SPI and key are unchanged keeps its sequence numbers and replay
 * window; one that left the view is retired and freed only after the next
 * snapshot is published (fwd_publish waits until no worker can hold it).
 *
 * Break before unmake: an inbound SA that leaves the view (its sender's
 * site or this one left the group, a replaced SA expired) still decrypts
 * for IVGMPD_SA_LINGER_MS. The VNOC changes the sender's view and this
 * site's in one step, but each site fetches and applies its own: the
 * sender may send on the SA for the round trip it takes to apply its view
 * after this site applied its own (milliseconds; a packet in flight too).
 * Keeping the SA here, rather than in vnocd's views, covers every way an
 * SA leaves (pairwise or group, the receiver's leave, the sender's, a
 * policy reload) with one rule and no new state in vnocd. The SA is only
 * ever inbound, and only one that this site held already: a site that left
 * a group keeps the group's old key a few seconds, never the key the VNOC
 * makes for the members that stay (vnocd_group_keys.c).
 */
#include <string.h>

#include <rte_malloc.h>

#include "ivgmpd.h"

/* Seconds, not milliseconds: a sender's view is a VNOC round trip away. */
#define IVGMPD_SA_LINGER_MS 5000

static struct ivgmpd_vnoc_sa *
sa_find(struct ivgmpd_vnoc_state *vs, const struct vnoc_sa *v)
{
	for (uint32_t i = 0; i < vs->n_sas; i++) {
		struct ivgmpd_vnoc_sa *s = &vs->sas[i];

		if (s->inbound == v->inbound && s->sa->spi == v->spi && s->group == v->group &&
		    strcmp(s->peer, v->peer) == 0 && memcmp(s->key, v->key, v->key_len) == 0 &&
		    memcmp(s->sa->salt, v->salt, 4) == 0)
			return s;
	}
	return NULL;
}

static struct esp_sa *
sa_create(struct ivgmpd *d, const struct vnoc_sa *v)
{
	struct esp_sa_params p = {
		.spi = v->spi,
		.aead = v->key_len == 32 ? ESP_AES_GCM_256 : ESP_AES_GCM_128,
		.esn = v->esn,
		.replay_window = d->conf->replay_window,
	};
	struct esp_sa *sa = rte_zmalloc("vnoc_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE);

	if (sa == NULL)
		return NULL;
	memcpy(p.key, v->key, v->key_len);
	memcpy(p.salt, v->salt, 4);
	if (esp_sa_init(sa, &p, d->mb) < 0) {
		rte_free(sa);
		return NULL;
	}
	return sa;
}

static int
peer_index(struct ivgmpd_vnoc_state *vs, const char *site)
{
	for (uint16_t i = 0; i < vs->n_peers; i++)
		if (strcmp(vs->peers[i].name, site) == 0)
			return i;
	return -1;
}

/* Of several outbound SAs to one peer (a rekey in progress), send with the
 * one issued last: the view lists it last. */
static struct esp_sa *
peer_sa_out(const struct ivgmpd_vnoc_state *vs, const char *peer)
{
	struct esp_sa *found = NULL;

	for (uint32_t i = 0; i < vs->n_sas; i++)
		if (!vs->sas[i].inbound && vs->sas[i].group == 0 &&
		    strcmp(vs->sas[i].peer, peer) == 0)
			found = vs->sas[i].sa;
	return found;
}

/* The group's own SA (sa-mode group): the VNOC lists the one in force. */
static struct esp_sa *
group_sa_out(const struct ivgmpd_vnoc_state *vs, uint32_t group)
{
	struct esp_sa *found = NULL;

	for (uint32_t i = 0; i < vs->n_sas; i++)
		if (!vs->sas[i].inbound && vs->sas[i].group == group)
			found = vs->sas[i].sa;
	return found;
}

static bool
state_holds_inbound_spi(const struct ivgmpd_vnoc_state *vs, uint32_t spi)
{
	for (uint32_t i = 0; i < vs->n_sas; i++)
		if (vs->sas[i].inbound && vs->sas[i].sa->spi == spi)
			return true;
	return false;
}

/*
 * The inbound SAs of cur that the view left out stay in next, decrypting
 * only, until IVGMPD_SA_LINGER_MS after they left (the file's top comment
 * says why). An SA the view has again is the view's; one whose SPI the
 * view gives to another SA gives way.
 */
static void
sas_linger(const struct ivgmpd_vnoc_state *cur, struct ivgmpd_vnoc_state *next,
	   uint64_t now_ms)
{
	uint32_t n_view = next->n_sas;

	for (uint32_t i = 0; i < cur->n_sas; i++) {
		const struct ivgmpd_vnoc_sa *s = &cur->sas[i];
		bool held = false;

		if (!s->inbound || (s->linger_until_ms != 0 && now_ms >= s->linger_until_ms))
			continue;
		for (uint32_t j = 0; j < n_view && !held; j++)
			held = next->sas[j].sa == s->sa;
		if (held || state_holds_inbound_spi(next, s->sa->spi))
			continue;
		next->sas[next->n_sas] = *s;
		if (s->linger_until_ms == 0)
			next->sas[next->n_sas].linger_until_ms = now_ms + IVGMPD_SA_LINGER_MS;
		next->n_sas++;
	}
}

static void
state_clear(struct ivgmpd_vnoc_state *vs)
{
	free(vs->groups);
	free(vs->site_lists);
	free(vs->sas);
	memset(vs, 0, sizeof(*vs));
}

/* Build the next state: SAs (reusing the current ones), peers, groups. */
static int
state_from_view(struct ivgmpd *d, const struct vnoc_view *view,
		struct ivgmpd_vnoc_state *next)
{
	struct ivgmpd_vnoc_state *cur = &d->vnoc;
	uint64_t now_ms = ivgmpd_now_ms();
	uint16_t *list;

	next->sas = calloc(view->n_sas + cur->n_sas + 1, sizeof(*next->sas));
	next->groups = calloc(view->n_groups ? view->n_groups : 1, sizeof(*next->groups));
	next->site_lists = calloc(view->n_groups * (size_t)IVGMPD_MAX_PEERS + 1,
				  sizeof(*next->site_lists));
	if (!next->sas || !next->groups || !next->site_lists)
		return -1;
	for (uint32_t i = 0; i < view->n_sas; i++) {
		const struct vnoc_sa *v = &view->sas[i];
		struct ivgmpd_vnoc_sa *old = sa_find(cur, v);
		struct ivgmpd_vnoc_sa *s = &next->sas[next->n_sas];

		s->inbound = v->inbound;
		s->group = v->group;
		snprintf(s->peer, sizeof(s->peer), "%s", v->peer);
		memcpy(s->key, v->key, v->key_len);
		s->sa = old ? old->sa : sa_create(d, v);
		if (s->sa == NULL)
			continue;       /* a bad SA costs its peer, not the whole view */
		ivgmpd_vnoc_sa_lifetime_start(s, old, v->lifetime_s, now_ms);
		next->n_sas++;
	}
	sas_linger(cur, next, now_ms);
	for (uint32_t g = 0; g < view->n_groups; g++) {
		for (uint16_t m = 0; m < view->groups[g].n_members; m++) {
			const struct vnoc_member *vm = &view->groups[g].members[m];

			if (strcmp(vm->site, d->conf->site_id) == 0 || peer_index(next, vm->site) >= 0 ||
			    next->n_peers == IVGMPD_MAX_PEERS)
				continue;
			snprintf(next->peers[next->n_peers].name, VNOC_SITE_ID_MAX, "%s", vm->site);
			next->peers[next->n_peers].wan_addr = vm->wan_addr;
			next->peers[next->n_peers].udp_encap = vm->udp_encap;
			next->peers[next->n_peers].sa_out = peer_sa_out(next, vm->site);
			next->n_peers++;
		}
	}
	/* A group is sent to its receiving members, when the VNOC granted this
	 * site the sender role and gave an SA for the member: the group's own
	 * in sa-mode group, else the member's pairwise one. */
	list = next->site_lists;
	for (uint32_t g = 0; g < view->n_groups; g++) {
		const struct vnoc_group *vg = &view->groups[g];
		struct ivgmpd_vnoc_group *out = &next->groups[next->n_groups++];
		bool sender = false;

		out->group = vg->group;
		out->sites = list;
		out->sa_out = group_sa_out(next, vg->group);
		for (uint16_t m = 0; m < vg->n_members; m++)
			if (strcmp(vg->members[m].site, d->conf->site_id) == 0)
				sender = vg->members[m].roles & VNOC_ROLE_SENDER;
		for (uint16_t m = 0; sender && m < vg->n_members; m++) {
			int p = peer_index(next, vg->members[m].site);

			if (p >= 0 && (vg->members[m].roles & VNOC_ROLE_RECEIVER) &&
			    (out->sa_out || next->peers[p].sa_out))
				out->sites[out->n_sites++] = (uint16_t)p;
		}
		list += out->n_sites;
	}
	next->version = view->version;
	return 0;
}

static bool
state_holds(const struct ivgmpd_vnoc_state *vs, const struct esp_sa *sa)
{
	for (uint32_t i = 0; i < vs->n_sas; i++)
		if (vs->sas[i].sa == sa)
			return true;
	return false;
}

/* Free the SAs of from that into does not hold. */
static void
sas_free_unheld(const struct ivgmpd_vnoc_state *from, const struct ivgmpd_vnoc_state *into)
{
	for (uint32_t i = 0; i < from->n_sas; i++)
		if (!state_holds(into, from->sas[i].sa))
			rte_free(from->sas[i].sa);
}

int
ivgmpd_vnoc_view_apply(struct ivgmpd *d, const struct vnoc_view *view)
{
	struct ivgmpd_vnoc_state next = { 0 };
	struct ivgmpd_vnoc_state old;
	int ret;

	if (state_from_view(d, view, &next) < 0) {
		sas_free_unheld(&next, &d->vnoc);   /* only the ones just made */
		state_clear(&next);
		return -1;
	}
	old = d->vnoc;
	d->vnoc = next;
	ret = ivgmpd_state_publish(d);
	/* Published: no worker can reach an SA that left the view any more.
	 * Not published (out of memory): the workers' snapshot may still
	 * name them, so they are left allocated, a leak on a path that is
	 * already failing, rather than freed under a worker. */
	if (ret == 0)
		sas_free_unheld(&old, &d->vnoc);
	state_clear(&old);
	return ret;
}

int
ivgmpd_vnoc_view_linger_end(struct ivgmpd *d, uint64_t now_ms)
{
	struct ivgmpd_vnoc_state *vs = &d->vnoc;
	struct ivgmpd_vnoc_sa *old = vs->sas, *kept;
	uint32_t n_old = vs->n_sas, n = 0;
	bool due = false;

	for (uint32_t i = 0; i < n_old && !due; i++)
		due = old[i].linger_until_ms != 0 && now_ms >= old[i].linger_until_ms;
	if (!due)
		return 0;
	kept = calloc(n_old, sizeof(*kept));
	if (kept == NULL)
		return -1;
	for (uint32_t i = 0; i < n_old; i++)
		if (old[i].linger_until_ms == 0 || now_ms < old[i].linger_until_ms)
			kept[n++] = old[i];
	vs->sas = kept;
	vs->n_sas = n;
	if (ivgmpd_state_publish(d) < 0) {
		/* The workers may still hold them: keep them, try again. */
		vs->sas = old;
		vs->n_sas = n_old;
		free(kept);
		return -1;
	}
	/* Published: no worker can reach the dropped SAs any more. */
	for (uint32_t i = 0; i < n_old; i++)
		if (!state_holds(vs, old[i].sa))
			rte_free(old[i].sa);
	free(old);
	return 0;
}

void
ivgmpd_vnoc_view_free(struct ivgmpd *d)
{
	for (uint32_t i = 0; i < d->vnoc.n_sas; i++)
		rte_free(d->vnoc.sas[i].sa);
	state_clear(&d->vnoc);
}
