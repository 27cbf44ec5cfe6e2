/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_VNOC_PRIVATE_H
#define IVGMP_VNOC_PRIVATE_H

/*
 * Internals of lib/vnoc:
 *   vnoc_names.c   names of operations, faults, roles, modes; value checks
 *   vnoc_msg.c     vnoc_msg_encode / _decode: the envelope, the simple operations
 *   vnoc_view.c    <view>, <group>, <member>, <sa>; releasing lists
 *   vnoc_admin.c   ListGroups and GetAccounting
 *   vnoc_fault.c   faults both ways
 * Element names are those of doc/vnoc.xsd; each read function takes the
 * children of its element in the schema's order.
 */

#include "soap/soap.h"
#include "vnoc.h"

#define VNOC_PREFIX "v"

/* ---- vnoc_names.c ---- */

extern const char *const vnoc_sa_mode_names[2];    /* pairwise group */
extern const char *const vnoc_aead_names[2];       /* aes-gcm-128 aes-gcm-256 */
extern const char *const vnoc_action_names[3];     /* join leave deny */

/* 224.0.1.0 - 239.255.255.255: multicast, not link-local. Network order. */
bool vnoc_group_valid(uint32_t group);
/* A unicast host address: not 0/8, 127/8, multicast, 240/4. */
bool vnoc_unicast_valid(uint32_t addr);

/* Typed readers and writers on top of soap_read_* / soap_write_*. Each read
 * checks the value as vnoc.h promises and fails the reader otherwise. */
int vnoc_read_site(struct soap_reader *r, const char *name, char site[VNOC_SITE_ID_MAX]);
int vnoc_read_group(struct soap_reader *r, const char *name, uint32_t *group);
int vnoc_read_unicast(struct soap_reader *r, const char *name, uint32_t *addr);
/* none, receiver, sender, both; none only if allow_none. */
int vnoc_read_roles(struct soap_reader *r, const char *name, uint8_t *roles, bool allow_none);
void vnoc_write_roles(struct soap_writer *w, xmlNodePtr parent, const char *name, uint8_t roles);
/* One of names[0..n-1]; *v is its index. */
int vnoc_read_enum(struct soap_reader *r, const char *name, const char *const *names,
		   unsigned int n, unsigned int *v);

/* ---- vnoc_view.c ---- */

void vnoc_view_write(struct soap_writer *w, xmlNodePtr parent, const struct vnoc_view *view);
int vnoc_view_read(struct soap_reader *r, struct vnoc_view *view);
/* The run of <group> at the reader: at most VNOC_MAX_GROUPS, each address
 * once. *groups is malloc'd (NULL when none). */
void vnoc_groups_write(struct soap_writer *w, xmlNodePtr parent, const struct vnoc_group *groups,
		       uint32_t n);
int vnoc_groups_read(struct soap_reader *r, struct vnoc_group **groups, uint32_t *n);
void vnoc_groups_free(struct vnoc_group *groups, uint32_t n);

/* ---- vnoc_admin.c ---- */

void vnoc_group_list_write(struct soap_writer *w, xmlNodePtr el, const struct vnoc_group_list *l);
int vnoc_group_list_read(struct soap_reader *r, struct vnoc_group_list *l);
void vnoc_accounting_req_write(struct soap_writer *w, xmlNodePtr el,
			       const struct vnoc_accounting_req *req);
int vnoc_accounting_req_read(struct soap_reader *r, struct vnoc_accounting_req *req);
void vnoc_accounting_resp_write(struct soap_writer *w, xmlNodePtr el,
				const struct vnoc_accounting_resp *resp);
int vnoc_accounting_resp_read(struct soap_reader *r, struct vnoc_accounting_resp *resp);

/* ---- vnoc_fault.c ---- */

/* A SOAP fault as the protocol's reason and text. */
void vnoc_fault_decode(const struct soap_fault *soap, struct vnoc_fault_info *fault);

#endif
