// shim.h: statx(2) attributes and the extended attribute calls
// (sys/xattr.h, which Swift's Glibc module leaves out) for Swift. glibc declares statx() only with
// _GNU_SOURCE, which Swift's Glibc module is not built with, so the system
// call is made directly with the kernel's own struct (linux/stat.h).
#include <fcntl.h>
#include <linux/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

// The attributes (STATX_ATTR_*) the kernel reports and supports for `path`,
// not following a final symlink; -1 with errno set when statx fails.
static inline int pft_statx_attributes(const char *path, unsigned long long *attributes) {
    struct statx result;
    if (syscall(SYS_statx, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &result) != 0) return -1;
    *attributes = result.stx_attributes & result.stx_attributes_mask;
    return 0;
}
