/* SPDX-License-Identifier: BSD-3-Clause */
/* SOAP 1.1 section 4: Envelope, optional Header, Body with one element. */
#include <stdio.h>
#include <string.h>

#include "soap_private.h"

static void
fault_code_resolve(xmlNodePtr node, const char *text, struct soap_fault *fault)
{
	static const struct {
		const char *name;
		enum soap_fault_code code;
	} codes[] = {
		{ "VersionMismatch", SOAP_FAULT_VERSION_MISMATCH },
		{ "MustUnderstand", SOAP_FAULT_MUST_UNDERSTAND },
		{ "Client", SOAP_FAULT_CLIENT },
		{ "Server", SOAP_FAULT_SERVER },
	};
	const char *colon = strchr(text, ':');
	const char *local = colon != NULL ? colon + 1 : text;
	char prefix[64] = "";
	size_t n;
	xmlNsPtr ns;

	fault->code = SOAP_FAULT_OTHER;
	if (colon != NULL) {
		n = (size_t)(colon - text);
		if (n >= sizeof(prefix))
			return;
		memcpy(prefix, text, n);
		prefix[n] = '\0';
	}
	/* faultcode is a QName: its prefix means what is in scope there. */
	ns = xmlSearchNs(node->doc, node, colon != NULL ? BAD_CAST prefix : NULL);
	if (ns == NULL || strcmp((const char *)ns->href, SOAP_ENV_NS) != 0)
		return;
	/* Section 4.4.1: "Client.Authentication" is a Client fault. */
	n = strcspn(local, ".");
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strlen(codes[i].name) == n && strncmp(local, codes[i].name, n) == 0)
			fault->code = codes[i].code;
}

/* Section 4.4: faultcode, faultstring, faultactor?, detail?, unqualified. */
static int
fault_parse(xmlNodePtr node, struct soap_fault *fault, char *err, size_t err_len)
{
	struct soap_reader r;
	xmlNodePtr string;
	xmlChar *content;
	char actor[256];

	if (soap_reader_init(&r, node, NULL, err, err_len) < 0 ||
	    soap_read_text(&r, "faultcode", fault->code_text, sizeof(fault->code_text)) < 0)
		return -1;
	fault_code_resolve(node, fault->code_text, fault);
	string = soap_read_element(&r, "faultstring");
	if (string == NULL)
		return -1;
	/* A long faultstring is cut, not refused: it is for people. */
	content = xmlNodeGetContent(string);
	snprintf(fault->string, sizeof(fault->string), "%s", content ? (char *)content : "");
	xmlFree(content);
	if (soap_reader_at(&r, "faultactor") &&
	    soap_read_text(&r, "faultactor", actor, sizeof(actor)) < 0)
		return -1;
	if (soap_reader_at(&r, "detail"))
		fault->detail = soap_read_element(&r, "detail");
	return soap_reader_end(&r);
}

/* Section 4.2.3: a header entry with mustUnderstand="1" that we do not know
 * (we know none) makes the message unprocessable. */
static int
header_check(xmlNodePtr header, char *err, size_t err_len)
{
	for (xmlNodePtr e = soap_element_first(header->children); e != NULL;
	     e = soap_element_first(e->next)) {
		xmlChar *mu = xmlGetNsProp(e, BAD_CAST "mustUnderstand", BAD_CAST SOAP_ENV_NS);
		bool must = mu != NULL && strcmp((const char *)mu, "0") != 0;

		xmlFree(mu);
		if (must) {
			soap_err(err, err_len, "header <%s> must be understood, and is not",
				 (const char *)e->name);
			return -1;
		}
	}
	return 0;
}

int
soap_envelope_parse(const char *buf, size_t len, const struct soap_limits *limits,
		    struct soap_envelope *env, char *err, size_t err_len)
{
	xmlNodePtr root, body, payload;
	struct soap_reader r;

	memset(env, 0, sizeof(*env));
	env->doc = soap_xml_read(buf, len, limits, err, err_len);
	if (env->doc == NULL)
		return -1;
	root = xmlDocGetRootElement(env->doc);
	if (!soap_node_is(root, SOAP_ENV_NS, "Envelope")) {
		if (root != NULL && strcmp((const char *)root->name, "Envelope") == 0)
			soap_err(err, err_len, "an Envelope of namespace '%s': only SOAP 1.1 is spoken",
				 root->ns != NULL ? (const char *)root->ns->href : "");
		else
			soap_err(err, err_len, "not a SOAP envelope: <%s>",
				 root != NULL ? (const char *)root->name : "?");
		goto fail;
	}
	if (soap_reader_init(&r, root, SOAP_ENV_NS, err, err_len) < 0)
		goto fail;
	if (soap_reader_at(&r, "Header") &&
	    header_check(soap_read_element(&r, "Header"), err, err_len) < 0)
		goto fail;
	body = soap_read_element(&r, "Body");
	if (body == NULL || soap_reader_end(&r) < 0)
		goto fail;

	/* Document/literal: exactly one element in the Body. */
	if (soap_reader_init(&r, body, NULL, err, err_len) < 0)
		goto fail;
	payload = r.next;
	if (payload == NULL) {
		soap_err(err, err_len, "an empty Body");
		goto fail;
	}
	if (soap_element_first(payload->next) != NULL) {
		soap_err(err, err_len, "more than one element in the Body");
		goto fail;
	}
	env->payload = payload;
	if (soap_node_is(payload, SOAP_ENV_NS, "Fault")) {
		if (fault_parse(payload, &env->fault, err, err_len) < 0)
			goto fail;
		return 1;
	}
	if (payload->ns == NULL) {
		soap_err(err, err_len, "<%s> in the Body has no namespace", (const char *)payload->name);
		goto fail;
	}
	return 0;
fail:
	soap_envelope_free(env);
	return -1;
}

void
soap_envelope_free(struct soap_envelope *env)
{
	xmlFreeDoc(env->doc);
	memset(env, 0, sizeof(*env));
}
