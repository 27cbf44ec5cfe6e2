/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_FUZZ_INPUT_H
#define IVGMP_FUZZ_INPUT_H

/* The fuzzer's bytes, read one at a time; past the end every byte is 0, so
 * a target never needs to check the length to make a decision. */

#include <stddef.h>
#include <stdint.h>

struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t
fuzz_byte(struct fuzz_input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

#endif
