/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * snapshot --pin: keep the loaded iterators in bpffs so that later
 * snapshots skip loading them.  Loading costs more than taking a snapshot
 * of tens of thousands of sockets (parsing the kernel's BTF for CO-RE and
 * for the attach point, verification); a pinned iterator link is opened
 * with one bpf(BPF_OBJ_GET).
 *
 * Pins live in /sys/fs/bpf/tcpscope/snap-<hash of the BPF object>/ (mode
 * 0700): another build of tcpscope never picks up pins of a different
 * program.  bpffs forgets them at reboot; --unpin removes them.
 */
#ifndef TS_SNAPSHOT_PIN_H
#define TS_SNAPSHOT_PIN_H

#include <stdbool.h>
#include <stddef.h>

#define TS_PIN_ROOT "/sys/fs/bpf/tcpscope"

/* The pin directory of this BPF object. */
void ts_pin__dir(char *buf, size_t len, const void *elf, size_t elf_len);

/*
 * Open the pinned iterator links of dir: 0 with *tcp_fd (and *files_fd
 * when files_fd is not NULL) set, -ENOENT when not pinned (yet), another
 * -errno when what is pinned is not what it should be.
 */
int ts_pin__open(const char *dir, int *tcp_fd, int *files_fd);

/* Pin both iterator links (fds) under dir (created as needed); 0 or -errno. */
int ts_pin__save(const char *dir, int tcp_fd, int files_fd);

/* Remove every pin under TS_PIN_ROOT; the number removed or -errno. */
int ts_pin__remove_all(void);

#endif
