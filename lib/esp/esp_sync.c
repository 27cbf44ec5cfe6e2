/* SPDX-License-Identifier: BSD-3-Clause */
#include "esp.h"

/* Run one job to completion. The job manager may hand back an older job
 * first, so flush until ours is done. */
static IMB_JOB *
run_one(IMB_MGR *mgr)
{
	IMB_JOB *job = IMB_SUBMIT_JOB(mgr);

	if (job == NULL)
		job = IMB_FLUSH_JOB(mgr);
	return job;
}

uint32_t
esp_encrypt(IMB_MGR *mgr, struct esp_sa *sa, uint8_t *inner, uint32_t inner_len,
	    uint8_t *esp)
{
	struct esp_job_scratch scratch;
	uint32_t payload_len = esp_outb_payload_len(inner_len);
	uint32_t granted;
	uint64_t seq = esp_outb_seq_reserve(sa, 1, &inner_len, &granted);
	IMB_JOB *job;

	if (granted == 0)
		return 0;
	esp_outb_trailer_write(inner, inner_len);
	job = IMB_GET_NEXT_JOB(mgr);
	esp_outb_job_fill(job, sa, seq, inner, payload_len, esp, &scratch);
	job = run_one(mgr);
	if (job == NULL || job->status != IMB_STATUS_COMPLETED)
		return 0;
	return ESP_HDR_LEN + ESP_IV_LEN + payload_len + ESP_ICV_LEN;
}
