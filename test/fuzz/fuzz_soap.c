/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the hardened SOAP reader (lib/soap) and the VNOC codec
 * (lib/vnoc), with the limits each end uses: vnocd decodes requests from
 * anyone who reaches it, ivgmpd decodes answers (faults included) from the
 * VNOC. The first byte picks the reader; the rest is the document.
 *
 * Beyond "no crash, no leak": whatever decodes must encode again, and the
 * encoding must be a fixed point (decode, encode, decode, encode gives the
 * same bytes), so that the two ends never disagree on what a message says.
 */
#include <stdlib.h>
#include <string.h>

#include "soap/soap.h"
#include "vnoc/vnoc.h"

static const struct soap_limits fuzz_request_limits = {
	.max_bytes = VNOC_REQUEST_MAX_BYTES,
	.max_depth = VNOC_MAX_DEPTH,
	.max_elements = VNOC_REQUEST_MAX_ELEMENTS,
};

/* Encode msg, decode that, encode again: the same bytes both times. */
static void
fuzz_vnoc_round_trip(const struct vnoc_msg *msg, bool response)
{
	struct vnoc_fault_info fault;
	struct vnoc_msg again;
	char err[256];
	size_t len1, len2;
	char *xml1 = vnoc_msg_encode(msg, &len1);
	char *xml2;

	if (xml1 == NULL)
		abort();
	if (vnoc_msg_decode(xml1, len1, response, &again, &fault, err, sizeof(err)) != 0 ||
	    again.op != msg->op)
		abort();
	xml2 = vnoc_msg_encode(&again, &len2);
	if (xml2 == NULL || len1 != len2 || memcmp(xml1, xml2, len1) != 0)
		abort();
	vnoc_msg_release(&again);
	free(xml2);
	free(xml1);
}

static void
fuzz_fault_round_trip(const struct vnoc_fault_info *fault)
{
	struct vnoc_fault_info again;
	struct vnoc_msg msg;
	char err[256];
	size_t len;
	char *xml = vnoc_fault_encode(fault, &len);

	if (xml == NULL)
		abort();
	if (vnoc_msg_decode(xml, len, true, &msg, &again, err, sizeof(err)) != 1 ||
	    again.reason != fault->reason)
		abort();
	free(xml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct soap_envelope env;
	struct vnoc_fault_info fault;
	struct vnoc_msg msg;
	char err[256];
	char *doc;
	int rc;

	if (size < 1)
		return 0;
	/* The document in a buffer of exactly its size, not NUL-terminated:
	 * what an HTTP body is. */
	doc = malloc(size - 1 ? size - 1 : 1);
	if (doc == NULL)
		return 0;
	memcpy(doc, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		rc = soap_envelope_parse(doc, size - 1, &fuzz_request_limits, &env, err, sizeof(err));
		if (rc >= 0) {
			if (env.doc == NULL || env.payload == NULL)
				abort();
			soap_envelope_free(&env);
		} else if (env.doc != NULL || err[0] == '\0') {
			abort();
		}
		break;
	case 1:
	case 2: {
		bool response = data[0] % 3 == 2;

		rc = vnoc_msg_decode(doc, size - 1, response, &msg, &fault, err, sizeof(err));
		if (rc == 0) {
			fuzz_vnoc_round_trip(&msg, response);
			vnoc_msg_release(&msg);
		} else if (rc == 1) {
			if (!response || (unsigned int)fault.reason >= VNOC_FAULT_MAX)
				abort();
			fuzz_fault_round_trip(&fault);
		} else if (rc != -1 || err[0] == '\0') {
			abort();
		}
		break;
	}
	}
	free(doc);
	return 0;
}
