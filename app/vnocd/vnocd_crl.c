/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Certificate revocation (--crl FILE): a site whose certificate is revoked
 * gets no service, like a site without a certificate. The file holds one or
 * more PEM CRLs, each of which must be signed by the site CA; it is read at
 * start and again on SIGHUP (with the policy), so that revoking a site takes
 * effect without a restart. A CRL past its nextUpdate is still used (the
 * revocations in it still hold) and said so in the log: an operator who
 * forgot to renew it must not open the door to every revoked site.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "vnocd.h"

struct vnocd_crl {
	gnutls_x509_crl_t *list;
	unsigned int n;
	unsigned int revoked;           /* entries over all CRLs, for the log */
};

static int
crl_file_read(const char *path, gnutls_datum_t *out, char *err, size_t err_len)
{
	int rc = gnutls_load_file(path, out);

	if (rc < 0)
		snprintf(err, err_len, "%s: %s", path, gnutls_strerror(rc));
	return rc < 0 ? -1 : 0;
}

/* Every CRL signed by one of the CA certificates, none of them expired as
 * a signature can say. */
static int
crl_verify(struct vnocd_crl *c, const char *path, const char *ca_path, char *err,
	   size_t err_len)
{
	gnutls_x509_crt_t *ca = NULL;
	unsigned int n_ca = 0;
	gnutls_datum_t pem = { 0 };
	int rc = -1;

	if (crl_file_read(ca_path, &pem, err, err_len) < 0)
		return -1;
	if (gnutls_x509_crt_list_import2(&ca, &n_ca, &pem, GNUTLS_X509_FMT_PEM, 0) < 0) {
		snprintf(err, err_len, "%s: no PEM certificate", ca_path);
		goto out;
	}
	for (unsigned int i = 0; i < c->n; i++) {
		unsigned int status = 0;
		time_t next = gnutls_x509_crl_get_next_update(c->list[i]);

		if (gnutls_x509_crl_verify(c->list[i], ca, n_ca, 0, &status) < 0 || status != 0) {
			snprintf(err, err_len, "%s: CRL %u is not signed by the site CA (%s)", path,
				 i + 1, ca_path);
			goto out;
		}
		if (next != (time_t)-1 && next < time(NULL))
			vnocd_log("crl: %s: CRL %u is past its nextUpdate; its revocations are "
				  "still applied: issue a new one", path, i + 1);
		c->revoked += (unsigned int)gnutls_x509_crl_get_crt_count(c->list[i]);
	}
	rc = 0;
out:
	for (unsigned int i = 0; i < n_ca; i++)
		gnutls_x509_crt_deinit(ca[i]);
	gnutls_free(ca);
	gnutls_free(pem.data);
	return rc;
}

struct vnocd_crl *
vnocd_crl_load(const char *path, const char *ca_path, char *err, size_t err_len)
{
	struct vnocd_crl *c = calloc(1, sizeof(*c));
	gnutls_datum_t pem = { 0 };

	if (c == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		return NULL;
	}
	if (crl_file_read(path, &pem, err, err_len) < 0)
		goto fail;
	if (gnutls_x509_crl_list_import2(&c->list, &c->n, &pem, GNUTLS_X509_FMT_PEM, 0) < 0 ||
	    c->n == 0) {
		snprintf(err, err_len, "%s: no PEM CRL (X509 CRL) in it", path);
		goto fail;
	}
	gnutls_free(pem.data);
	pem.data = NULL;
	if (crl_verify(c, path, ca_path, err, err_len) < 0)
		goto fail;
	return c;
fail:
	gnutls_free(pem.data);
	vnocd_crl_free(c);
	return NULL;
}

void
vnocd_crl_free(struct vnocd_crl *c)
{
	if (c == NULL)
		return;
	for (unsigned int i = 0; i < c->n; i++)
		gnutls_x509_crl_deinit(c->list[i]);
	gnutls_free(c->list);
	free(c);
}

unsigned int
vnocd_crl_entries(const struct vnocd_crl *c)
{
	return c ? c->revoked : 0;
}

int
vnocd_crl_revoked(const struct vnocd_crl *c, void *crt, char *serial, size_t serial_len)
{
	unsigned char raw[64];
	size_t len = sizeof(raw);
	int rc;

	if (c == NULL)
		return 0;
	rc = gnutls_x509_crt_check_revocation(crt, c->list, c->n);
	if (rc <= 0)
		return rc;
	serial[0] = '\0';
	if (gnutls_x509_crt_get_serial(crt, raw, &len) == 0)
		for (size_t i = 0; i < len && 2 * i + 3 <= serial_len; i++)
			snprintf(serial + 2 * i, 3, "%02x", raw[i]);
	return 1;
}
