// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <unistd.h>
#include "core/util/writeall.h"

int ts_write_all(int fd, const char *p, size_t len, size_t *done)
{
	unsigned int intr = 0;
	size_t off = 0;
	int err = 0;

	while (off < len) {
		ssize_t k = write(fd, p + off, len - off);

		if (k > 0) {
			off += (size_t)k;
		} else if (k < 0 && errno == EINTR && ++intr < TS_WRITE_EINTR_TRIES) {
			continue;
		} else {
			/* A write that takes nothing: do not spin on it. */
			err = k < 0 && errno ? errno : EIO;
			break;
		}
	}
	*done = off;
	return err;
}
