/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_READER_INTERNAL_H
#define BSDTAP_READER_INTERNAL_H

/* What the built-in readers use of the reader API beyond the public calls. */

#include <cstdint>

#include "rte_pmd_bsdtap.h"

namespace bsdtap
{

/* Open with builtin=true: the port's own reader (not counted against removal). */
rte_pmd_bsdtap_reader *reader_open(const char *name, uint16_t qid, int flags,
				   bool builtin) noexcept;
int reader_close(rte_pmd_bsdtap_reader **r) noexcept;
/* Prepare to sleep on reader_efd(): true if a frame is already there. */
bool reader_arm(rte_pmd_bsdtap_reader *r) noexcept;
int reader_efd(const rte_pmd_bsdtap_reader *r) noexcept;

} // namespace bsdtap

#endif
