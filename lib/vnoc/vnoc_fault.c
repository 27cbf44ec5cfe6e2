/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Faults (SOAP 1.1 section 4.4): the sender's mistakes are soap:Client, the
 * VNOC's own trouble soap:Server; the reason travels in the detail:
 *
 *   <soap:Fault><faultcode>soap:Client</faultcode>
 *     <faultstring>policy: site-a may not send to 239.1.1.1</faultstring>
 *     <detail><v:reason>NotAuthorized</v:reason></detail></soap:Fault>
 */
#include <stdio.h>
#include <string.h>

#include "vnoc_private.h"

char *
vnoc_fault_encode(const struct vnoc_fault_info *fault, size_t *len)
{
	enum vnoc_fault reason = fault->reason;
	struct soap_writer w;
	xmlNodePtr detail;

	/* Not a reason of the protocol: the VNOC's own trouble. */
	if (reason <= VNOC_FAULT_NONE || reason >= VNOC_FAULT_MAX)
		reason = VNOC_FAULT_SERVER;
	if (soap_writer_init(&w, VNOC_NS, VNOC_PREFIX) < 0)
		return NULL;
	detail = soap_write_fault(&w, reason == VNOC_FAULT_SERVER ? SOAP_FAULT_SERVER
								 : SOAP_FAULT_CLIENT,
				  fault->text);
	soap_write_text(&w, detail, "reason", vnoc_fault_name(reason));
	return soap_writer_finish(&w, len);
}

void
vnoc_fault_decode(const struct soap_fault *soap, struct vnoc_fault_info *fault)
{
	xmlNodePtr reason = NULL;
	char text[32];

	memset(fault, 0, sizeof(*fault));
	snprintf(fault->text, sizeof(fault->text), "%s", soap->string);
	if (soap->detail != NULL)
		for (xmlNodePtr c = soap_element_first(soap->detail->children); c != NULL;
		     c = soap_element_first(c->next))
			if (c->ns != NULL && strcmp((const char *)c->ns->href, VNOC_NS) == 0 &&
			    strcmp((const char *)c->name, "reason") == 0)
				reason = c;
	/* A fault of someone else (a proxy, a newer VNOC) still means something:
	 * the sender's mistake or the server's trouble. */
	if (reason == NULL || soap_node_text(reason, text, sizeof(text)) < 0 ||
	    vnoc_fault_from_name(text, &fault->reason) < 0 || fault->reason == VNOC_FAULT_NONE)
		fault->reason = soap->code == SOAP_FAULT_CLIENT ? VNOC_FAULT_BAD_REQUEST
								: VNOC_FAULT_SERVER;
}
